/**
 * How the simulator refuses a call: a gRPC status with Sui's wording, so the SDK raises the
 * same RpcError (code and message) a real full node would make it raise.
 */
import { GrpcStatusCode } from '@mysten/sui/grpc';

export { GrpcStatusCode };

export class RpcFailure extends Error {
  constructor(
    readonly code: GrpcStatusCode,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new RpcFailure(GrpcStatusCode.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new RpcFailure(GrpcStatusCode.NOT_FOUND, message);
export const unimplemented = (message: string) => new RpcFailure(GrpcStatusCode.UNIMPLEMENTED, message);

/** Two transactions signed one owned object version: Sui locks the object until the epoch ends. */
export class Equivocation extends RpcFailure {
  constructor(
    readonly objectId: string,
    readonly version: bigint,
    readonly digests: string[],
  ) {
    super(
      GrpcStatusCode.FAILED_PRECONDITION,
      `Failed to sign transaction by a quorum of validators because one or more of its objects is equivocated until the next epoch. ` +
        `Object ${objectId} version ${version} is locked by other transactions: ${digests.join(', ')}`,
    );
  }
}
