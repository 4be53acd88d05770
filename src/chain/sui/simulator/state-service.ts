/**
 * StateService: balances (coins plus address balance), owned objects (coins, with the object
 * references a transaction needs) and coin metadata.
 */
import { GrpcTypes } from '@mysten/sui/grpc';
import { isValidSuiAddress, normalizeSuiAddress } from '@mysten/sui/utils';
import { invalid, notFound } from './errors.js';
import { unary, type Handler } from './grpc-web.js';
import type { SuiLedger } from './ledger.js';
import { parseMask, prune, type MaskTree } from './mask.js';
import { CoinLayout } from './move.js';
import type { Coin } from './objects.js';
import { REBATE_PER_OBJECT } from './execute.js';
import { SUI_TYPE, coinObjectType, normalizeType } from './util.js';

const { StateService, Owner_OwnerKind: OwnerKind } = GrpcTypes;

export const OBJECT_DEFAULT_MASK = ['object_id', 'version', 'digest'];
const PAGE = { default: 50, max: 1000 };

export function renderObject(coin: Coin, mask: MaskTree): GrpcTypes.Object {
  const objectType = coinObjectType(coin.coinType);
  return prune(
    GrpcTypes.Object,
    {
      objectId: coin.objectId,
      version: coin.version,
      digest: coin.digest,
      owner: { kind: OwnerKind.ADDRESS, address: coin.owner },
      objectType,
      hasPublicTransfer: true,
      contents: { name: objectType, value: CoinLayout.serialize({ id: coin.objectId, balance: coin.balance }).toBytes() },
      previousTransaction: coin.previousTransaction,
      storageRebate: REBATE_PER_OBJECT,
      balance: coin.balance,
    },
    mask,
  );
}

function owner(value: string | undefined): string {
  if (!value || !isValidSuiAddress(normalizeSuiAddress(value))) throw invalid(`invalid owner address: ${value ?? '(none)'}`);
  return normalizeSuiAddress(value);
}

/** A Move type from a request, normalized; a malformed one is the caller's error, not the server's. */
function moveType(value: string | undefined, field: string): string {
  if (!value) throw invalid(`${field} is required`);
  try {
    return normalizeType(value);
  } catch {
    throw invalid(`invalid ${field}: ${value}`);
  }
}

/** Page tokens are offsets into a sorted listing: simple, and stable while nothing changes. */
function page<T>(items: T[], token: Uint8Array | undefined, size: number | undefined): { items: T[]; next?: Uint8Array } {
  const offset = token && token.length === 4 ? new DataView(token.buffer, token.byteOffset, 4).getUint32(0) : 0;
  const take = Math.min(Math.max(size || PAGE.default, 1), PAGE.max);
  const slice = items.slice(offset, offset + take);
  if (offset + take >= items.length) return { items: slice };
  const next = new Uint8Array(4);
  new DataView(next.buffer).setUint32(0, offset + take);
  return { items: slice, next };
}

function balance(ledger: SuiLedger, address: string, coinType: string): GrpcTypes.Balance {
  const b = ledger.balance(address, coinType);
  return { coinType, balance: b.total, coinBalance: b.coins, addressBalance: b.address };
}

const COIN_INFO: Record<string, { name: string; symbol: string; decimals: number; description: string }> = {
  [SUI_TYPE]: { name: 'Sui', symbol: 'SUI', decimals: 9, description: '' },
};

export function stateService(ledger: SuiLedger): Handler[] {
  const info = { ...COIN_INFO, [ledger.cusdType]: { name: 'Confío Dollar', symbol: 'cUSD', decimals: 6, description: 'A simulated dollar stablecoin' } };
  return [
    unary<GrpcTypes.GetBalanceRequest, GrpcTypes.GetBalanceResponse>(StateService, 'GetBalance', (req) => {
      return { balance: balance(ledger, owner(req.owner), moveType(req.coinType, 'coin_type')) };
    }),
    unary<GrpcTypes.ListBalancesRequest, GrpcTypes.ListBalancesResponse>(StateService, 'ListBalances', (req) => {
      const address = owner(req.owner);
      const { items, next } = page(ledger.objects.coinTypes(address), req.pageToken, req.pageSize);
      return { balances: items.map((coinType) => balance(ledger, address, coinType)), nextPageToken: next };
    }),
    unary<GrpcTypes.ListOwnedObjectsRequest, GrpcTypes.ListOwnedObjectsResponse>(StateService, 'ListOwnedObjects', (req) => {
      const address = owner(req.owner);
      const wanted = req.objectType ? moveType(req.objectType, 'object_type') : undefined;
      // A type without type arguments (0x2::coin::Coin) matches every instantiation.
      const matches = (coin: Coin) => !wanted || (wanted.includes('<') ? coinObjectType(coin.coinType) === wanted : coinObjectType(coin.coinType).split('<')[0] === wanted);
      const { items, next } = page(ledger.objects.owned(address, matches), req.pageToken, req.pageSize);
      const mask = parseMask(req.readMask?.paths, ['object_id', 'version', 'object_type']);
      return { objects: items.map((coin) => renderObject(coin, mask)), nextPageToken: next };
    }),
    unary<GrpcTypes.GetCoinInfoRequest, GrpcTypes.GetCoinInfoResponse>(StateService, 'GetCoinInfo', (req) => {
      const coinType = moveType(req.coinType, 'coin_type');
      const meta = info[coinType];
      if (!meta) throw notFound(`Coin info for ${coinType} not found`);
      return { coinType, metadata: meta };
    }),
  ];
}
