import { IntentRejectedError, type IntentCodec } from '../../../core/relayer/outbox.js';
import { acceptSignedSui, bindSponsorship } from './signed.js';
import { callArgs, encodeCall, moveType, packageOf, suiAddress, SuiCallError, type SuiIntentSpec } from './call.js';

/**
 * How the outbox takes Sui intents: the call is checked and stored in its
 * deterministic form (call.ts) when it is submitted, so bad arguments are refused
 * in the caller's request; addresses in their long form. A Move call goes to the
 * kind's package unless the intent names another; a transfer to its coin's package.
 */
export const suiCodec: IntentCodec = {
  encode(kind, functionName, args) {
    try {
      const call = encodeCall(kind.spec as SuiIntentSpec, functionName, args);
      return { payload: JSON.stringify(call), args: callArgs(call) };
    } catch (error) {
      if (error instanceof SuiCallError) throw new IntentRejectedError(`cannot encode ${kind.name} ${functionName}: ${error.message}`);
      throw error;
    }
  },
  defaultTarget(kind) {
    const spec = kind.spec as SuiIntentSpec;
    if ('transfer' in spec) return { target: packageOf(moveType(spec.transfer.coinType, 'coin type')), contract: 'coin' };
    return spec.package ? { target: suiAddress(spec.package, 'package'), contract: spec.module } : undefined;
  },
  normalizeAddress(value) {
    try {
      return suiAddress(value, 'address');
    } catch {
      return undefined;
    }
  },
  acceptSigned: acceptSignedSui,
  bindSigned: bindSponsorship,
};
