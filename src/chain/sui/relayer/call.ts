import { isValidSuiAddress, normalizeStructTag, normalizeSuiAddress, normalizeTypeTag } from '@mysten/sui/utils';

/**
 * What a Sui intent asks for, as stored in its payload (JSON, keys in a fixed
 * order, integers as decimal strings, addresses and types in their long form):
 * the same request always makes the same payload, and the payload with the
 * intent's target is all the relayer needs to build the transaction.
 *
 *   { "transfer": { "coinType": "0x…2::sui::SUI", "amount": "1000", "recipient": "0x…" } }
 *   { "moveCall": { "module": "payments", "function": "pay", "typeArguments": ["0x…::cusd::CUSD"],
 *                   "arguments": [{ "coin": { "type": "0x…::cusd::CUSD", "amount": "5" } }, { "address": "0x…" }, { "string": "memo" }] } }
 *
 * A Move call's package is the intent's target; a transfer's target is its coin type's package.
 */
export type SuiCall = { transfer: { coinType: string; amount: string; recipient: string } } | { moveCall: { module: string; function: string; typeArguments: string[]; arguments: SuiArgument[] } };

export const UNSIGNED = ['u8', 'u16', 'u32', 'u64', 'u128', 'u256'] as const;
export type Unsigned = (typeof UNSIGNED)[number];

/**
 * One argument of a Move call: a pure value, an object the signer owns (by id), or a
 * coin of some amount, split off the signer's coins of that type when the
 * transaction is built (SUI: off the gas coin).
 */
export type SuiArgument =
  | { [K in Unsigned]: { [P in K]: string } }[Unsigned]
  | { bool: boolean }
  | { address: string }
  | { string: string }
  | { object: string }
  | { coin: { type: string; amount: string } };

/** A parameter of a Move function as an intent kind declares it; `{ coin: i }` is a Coin of the i-th type argument. */
export type SuiParameter = Unsigned | 'bool' | 'address' | 'string' | 'object' | { coin: number };

export interface SuiFunction {
  /** How many type arguments it takes: an intent gives them first, before the arguments. */
  typeParameters?: number;
  parameters: SuiParameter[];
}

/** What a Sui intent kind sends: coins of one type, or calls to the functions of one Move module. */
export type SuiIntentSpec = { transfer: { coinType: string } } | { package?: string; module: string; functions: Record<string, SuiFunction> };

export class SuiCallError extends Error {
  override name = 'SuiCallError';
}

const BITS: Record<Unsigned, number> = { u8: 8, u16: 16, u32: 32, u64: 64, u128: 128, u256: 256 };

/** A Sui address (or object id) in its long form; throws SuiCallError when it is not one. */
export function suiAddress(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) throw new SuiCallError(`${what} must be a Sui address (0x and up to 64 hex digits), got ${describe(value)}`);
  const address = normalizeSuiAddress(value);
  if (!isValidSuiAddress(address)) throw new SuiCallError(`${what} is not a valid Sui address: ${value}`);
  return address;
}

/** A Move type in its long form (`0x2::sui::SUI` → `0x0…02::sui::SUI`); throws SuiCallError when it does not parse. */
export function moveType(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new SuiCallError(`${what} must be a Move type, got ${describe(value)}`);
  try {
    return value.includes('::') ? normalizeStructTag(value) : normalizeTypeTag(value);
  } catch {
    throw new SuiCallError(`${what} is not a Move type: ${value}`);
  }
}

/** An unsigned integer of `bits` bits (a bigint, a safe integer or a decimal string), as a decimal string. */
export function unsigned(value: unknown, bits: number, what: string): string {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === 'string' && /^[0-9]+$/.test(value)) n = BigInt(value);
  else throw new SuiCallError(`${what} must be an unsigned integer, got ${describe(value)}`);
  if (n < 0n || n >= 1n << BigInt(bits)) throw new SuiCallError(`${what} is out of range for u${bits}: ${n}`);
  return n.toString();
}

/** An amount of coins: a positive u64. */
export function amount(value: unknown, what: string): string {
  const n = unsigned(value, 64, what);
  if (n === '0') throw new SuiCallError(`${what} must be more than zero`);
  return n;
}

/** The package a Move type was published in (a coin type's package is where a transfer of it "goes"). */
export function packageOf(type: string): string {
  return type.slice(0, type.indexOf('::'));
}

/** The call an intent of `spec` makes with these arguments, checked and in its stored form. */
export function encodeCall(spec: SuiIntentSpec, functionName: string, args: readonly unknown[]): SuiCall {
  if ('transfer' in spec) {
    if (functionName !== 'transfer') throw new SuiCallError(`a transfer intent's function is "transfer", not ${JSON.stringify(functionName)}`);
    if (args.length !== 2) throw new SuiCallError(`transfer takes 2 arguments (recipient, amount), got ${args.length}`);
    return { transfer: { coinType: moveType(spec.transfer.coinType, 'the coin type'), amount: amount(args[1], 'amount'), recipient: suiAddress(args[0], 'recipient') } };
  }
  const fn = Object.hasOwn(spec.functions, functionName) ? spec.functions[functionName] : undefined;
  if (!fn) throw new SuiCallError(`${spec.module} has no function ${JSON.stringify(functionName)}; known: ${Object.keys(spec.functions).join(', ')}`);
  const typeCount = fn.typeParameters ?? 0;
  if (args.length !== typeCount + fn.parameters.length) {
    throw new SuiCallError(`${spec.module}::${functionName} takes ${typeCount} type argument(s) then ${fn.parameters.length} argument(s), got ${args.length} values`);
  }
  const typeArguments = args.slice(0, typeCount).map((t, i) => moveType(t, `type argument ${i}`));
  const values = args.slice(typeCount);
  const callArguments = fn.parameters.map((parameter, i): SuiArgument => {
    const what = `argument ${i} (${typeof parameter === 'string' ? parameter : 'coin'})`;
    const value = values[i];
    if (typeof parameter === 'object') {
      const type = typeArguments[parameter.coin];
      if (type === undefined) throw new SuiCallError(`${spec.module}::${functionName}: parameter ${i} is a coin of type argument ${parameter.coin}, which it does not take`);
      return { coin: { type, amount: amount(value, what) } };
    }
    switch (parameter) {
      case 'bool':
        if (typeof value !== 'boolean') throw new SuiCallError(`${what} must be a boolean, got ${describe(value)}`);
        return { bool: value };
      case 'address':
        return { address: suiAddress(value, what) };
      case 'object':
        return { object: suiAddress(value, what) };
      case 'string':
        if (typeof value !== 'string') throw new SuiCallError(`${what} must be a string, got ${describe(value)}`);
        return { string: value };
      default:
        return { [parameter]: unsigned(value, BITS[parameter], what) } as SuiArgument;
    }
  });
  return { moveCall: { module: spec.module, function: functionName, typeArguments, arguments: callArguments } };
}

/** The arguments in JSON form, as people and handlers read them back: what the intent asked, normalized. */
export function callArgs(call: SuiCall): Array<string | boolean> {
  if ('transfer' in call) return [call.transfer.recipient, call.transfer.amount];
  return [...call.moveCall.typeArguments, ...call.moveCall.arguments.map((a) => ('coin' in a ? a.coin.amount : Object.values(a)[0] as string | boolean))];
}

export function parseCall(payload: string): SuiCall {
  return JSON.parse(payload) as SuiCall;
}

/** How much of each coin type the call spends (coin arguments and transfers), by type. */
export function spending(call: SuiCall): Map<string, bigint> {
  const spent = new Map<string, bigint>();
  const add = (type: string, value: string) => spent.set(type, (spent.get(type) ?? 0n) + BigInt(value));
  if ('transfer' in call) add(call.transfer.coinType, call.transfer.amount);
  else for (const a of call.moveCall.arguments) if ('coin' in a) add(a.coin.type, a.coin.amount);
  return spent;
}

/** The owned objects the call names by id. */
export function namedObjects(call: SuiCall): string[] {
  return 'moveCall' in call ? call.moveCall.arguments.flatMap((a) => ('object' in a ? [a.object] : [])) : [];
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
