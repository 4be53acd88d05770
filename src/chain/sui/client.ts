import { SuiGrpcClient } from '@mysten/sui/grpc';
import { RpcMeter } from '../../runtime/rpc-meter.js';

type ClientOptions = Extract<ConstructorParameters<typeof SuiGrpcClient>[0], { baseUrl: string }>;
type Interceptor = NonNullable<ClientOptions['interceptors']>[number];

/** A connection to a Sui full node's gRPC API (grpc-web over fetch, as the SDK speaks it), every call metered. */
export interface SuiConnection {
  client: SuiGrpcClient;
  url: string;
  meter: RpcMeter;
}

/**
 * The SDK's gRPC client with every call counted by method (`GetCheckpoint`,
 * `ListCheckpoints`, …), as EVM counts its JSON-RPC methods: a server stream
 * counts once, when it is opened.
 */
export function connectSui(url: string, chain: string): SuiConnection {
  const meter = new RpcMeter(chain);
  const counting: Interceptor = {
    interceptUnary(next, method, input, options) {
      meter.record(method.name, false);
      const call = next(method, input, options);
      call.response.catch(() => meter.record(method.name, true));
      return call;
    },
    interceptServerStreaming(next, method, input, options) {
      meter.record(method.name, false);
      const call = next(method, input, options);
      call.status.catch(() => meter.record(method.name, true));
      return call;
    },
  };
  const client = new SuiGrpcClient({ network: chain, baseUrl: url, interceptors: [counting] });
  return { client, url, meter };
}
