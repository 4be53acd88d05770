// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title BenchCredentialEmitter
/// @notice Benchmark-only: emits the vault's CredentialIssued events in bulk without
///         storing anything. anvil recomputes its whole state trie for every block, so a
///         chain that stores 100,000 real credentials gets slower to build with every block;
///         events alone keep the state tiny. The indexer sees the same events (same
///         signature, same topic0) as from BlockProofCredentialVault. Never deployed by
///         `ledgersync deploy`; used by bench/ only.
contract BenchCredentialEmitter {
    /// @notice Same signature as BlockProofCredentialVault.CredentialIssued.
    event CredentialIssued(
        uint256 indexed id,
        address indexed institution,
        address indexed student,
        bytes32 fingerprint,
        string metadataURI,
        uint64 issuedAt,
        uint64 expiresAt
    );

    /// @notice Emits `count` CredentialIssued events with ids `firstId`, `firstId + 1`, …,
    ///         each with a distinct fingerprint derived from its id.
    function emitIssued(uint256 firstId, uint256 count, address student, string calldata metadataURI) external {
        for (uint256 i = 0; i < count; i++) {
            uint256 id = firstId + i;
            emit CredentialIssued(id, msg.sender, student, keccak256(abi.encode(id)), metadataURI, uint64(block.timestamp), 0);
        }
    }
}
