// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Issuer registry of the issuer platform
/// @notice Companies that may raise money through the platform. A registrar registers a company's
///         wallet as an issuer, anchored by the hash of its verifiable credential (the compliance
///         check done off chain) and the IPFS location of its documents, and may later revoke it.
///         The {CampaignFactory} creates campaigns only for registered issuers.
/// @dev The admin (DEFAULT_ADMIN_ROLE) manages roles only; registering and revoking need
///      REGISTRAR_ROLE, given to a first registrar at construction (so a deployment needs no
///      further transaction) and granted or revoked by the admin afterwards. A revoked issuer may be registered again (a reinstated company); a
///      registered one may not, so a retried registration reverts with {IssuerAlreadyRegistered}
///      instead of registering twice.
contract IssuerRegistry is AccessControl {
    // ---------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------

    /// @notice An issuer's record, as returned by {issuerRecord}.
    /// @param registered Whether it is registered now (false if never registered or revoked).
    /// @param registeredAt Block timestamp of the latest registration (0 if never registered).
    /// @param revokedAt Block timestamp of the latest revocation (0 if not revoked since).
    /// @param vcHash Hash of the company's verifiable credential at the latest registration.
    /// @param revocationReason Application-defined reason code of the latest revocation.
    /// @param ipfsHash IPFS location of the company's documents at the latest registration.
    struct Issuer {
        bool registered;
        uint64 registeredAt;
        uint64 revokedAt;
        bytes32 vcHash;
        bytes32 revocationReason;
        string ipfsHash;
    }

    // ---------------------------------------------------------------------------------------------
    // Roles
    // ---------------------------------------------------------------------------------------------

    /// @notice May register and revoke issuers.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor was given the zero address as admin.
    error InvalidAdmin();
    /// @notice The constructor was given the zero address as registrar.
    error InvalidRegistrar();
    /// @notice The issuer is the zero address.
    error InvalidIssuer();
    /// @notice The verifiable credential hash is zero.
    error InvalidVcHash();
    /// @notice The issuer is registered already (a registration is never repeated).
    error IssuerAlreadyRegistered(address issuer);
    /// @notice The issuer is not registered (never was, or was revoked).
    error IssuerNotRegistered(address issuer);

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice An issuer was registered (or registered again after a revocation).
    /// @param issuer The company's wallet.
    /// @param vcHash Hash of its verifiable credential.
    /// @param ipfsHash IPFS location of its documents.
    /// @param registeredAt Block timestamp of the registration.
    event IssuerRegistered(address indexed issuer, bytes32 vcHash, string ipfsHash, uint64 registeredAt);

    /// @notice An issuer was revoked: it can no longer get new campaigns.
    /// @param issuer The company's wallet.
    /// @param reason Application-defined reason code.
    /// @param revokedAt Block timestamp of the revocation.
    event IssuerRevoked(address indexed issuer, bytes32 reason, uint64 revokedAt);

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    mapping(address issuer => Issuer) private _issuers;

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @param admin Account that receives DEFAULT_ADMIN_ROLE (grants and revokes REGISTRAR_ROLE).
    /// @param registrar Account that receives REGISTRAR_ROLE (may be the admin).
    constructor(address admin, address registrar) {
        if (admin == address(0)) revert InvalidAdmin();
        if (registrar == address(0)) revert InvalidRegistrar();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, registrar);
    }

    // ---------------------------------------------------------------------------------------------
    // Registering and revoking
    // ---------------------------------------------------------------------------------------------

    /// @notice Registers a company's wallet as an issuer.
    /// @dev Only REGISTRAR_ROLE. Reverts with InvalidIssuer, InvalidVcHash or
    ///      IssuerAlreadyRegistered. A revoked issuer may be registered again; its revocation
    ///      time and reason are then cleared.
    /// @param issuer The company's wallet (non-zero).
    /// @param vcHash Hash of its verifiable credential (non-zero).
    /// @param ipfsHash IPFS location of its documents (may be empty).
    function registerIssuer(address issuer, bytes32 vcHash, string calldata ipfsHash)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        if (issuer == address(0)) revert InvalidIssuer();
        if (vcHash == bytes32(0)) revert InvalidVcHash();
        Issuer storage record = _issuers[issuer];
        if (record.registered) revert IssuerAlreadyRegistered(issuer);
        uint64 nowTs = uint64(block.timestamp);
        record.registered = true;
        record.registeredAt = nowTs;
        record.revokedAt = 0;
        record.vcHash = vcHash;
        record.revocationReason = bytes32(0);
        record.ipfsHash = ipfsHash;
        emit IssuerRegistered(issuer, vcHash, ipfsHash, nowTs);
    }

    /// @notice Revokes a registered issuer: the factory refuses it new campaigns.
    /// @dev Only REGISTRAR_ROLE. Reverts with IssuerNotRegistered. Campaigns it already has are
    ///      not touched: what happens to them is the platform's decision.
    /// @param issuer The company's wallet.
    /// @param reason Application-defined reason code.
    function revokeIssuer(address issuer, bytes32 reason) external onlyRole(REGISTRAR_ROLE) {
        Issuer storage record = _issuers[issuer];
        if (!record.registered) revert IssuerNotRegistered(issuer);
        uint64 nowTs = uint64(block.timestamp);
        record.registered = false;
        record.revokedAt = nowTs;
        record.revocationReason = reason;
        emit IssuerRevoked(issuer, reason, nowTs);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice Whether `issuer` is a registered (and not revoked) issuer.
    /// @param issuer The company's wallet.
    function isRegisteredIssuer(address issuer) external view returns (bool) {
        return _issuers[issuer].registered;
    }

    /// @notice An issuer's record; all zero if it was never registered.
    /// @param issuer The company's wallet.
    function issuerRecord(address issuer) external view returns (Issuer memory) {
        return _issuers[issuer];
    }
}
