// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Investor registry of the issuer platform
/// @notice Which wallets may invest, after the ERC-3643 idea of an identity registry kept small: a
///         verifier records, per investor, the hash of the claim that verified them (KYC, AML,
///         country: checked off chain, only its hash is stored). Campaigns record investments only
///         from verified investors, and share certificates move only to verified investors.
/// @dev The admin (DEFAULT_ADMIN_ROLE) manages roles only; verifying and revoking need
///      VERIFIER_ROLE, given to a first verifier at construction and granted or revoked by the
///      admin afterwards. Verifying an investor who is verified already replaces the claim hash
///      (a renewed claim); setting the same hash again changes nothing but is not refused, so a
///      retried verification is harmless.
contract InvestorRegistry is AccessControl {
    // ---------------------------------------------------------------------------------------------
    // Roles
    // ---------------------------------------------------------------------------------------------

    /// @notice May verify and revoke investors.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor was given the zero address as admin.
    error InvalidAdmin();
    /// @notice The constructor was given the zero address as verifier.
    error InvalidVerifier();
    /// @notice The investor is the zero address.
    error InvalidInvestor();
    /// @notice The claim hash is zero (zero means "not verified").
    error InvalidClaimHash();
    /// @notice The investor is not verified (never was, or was revoked).
    error InvestorNotVerified(address investor);

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice An investor was verified, or their claim hash replaced.
    /// @param investor The investor's wallet.
    /// @param claimHash Hash of the claim that verified them.
    /// @param verifiedAt Block timestamp of the verification.
    event InvestorVerified(address indexed investor, bytes32 claimHash, uint64 verifiedAt);

    /// @notice An investor's verification was revoked.
    /// @param investor The investor's wallet.
    /// @param reason Application-defined reason code.
    /// @param revokedAt Block timestamp of the revocation.
    event InvestorRevoked(address indexed investor, bytes32 reason, uint64 revokedAt);

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    mapping(address investor => bytes32 claimHash) private _claims;

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @param admin Account that receives DEFAULT_ADMIN_ROLE (grants and revokes VERIFIER_ROLE).
    /// @param verifier Account that receives VERIFIER_ROLE (may be the admin).
    constructor(address admin, address verifier) {
        if (admin == address(0)) revert InvalidAdmin();
        if (verifier == address(0)) revert InvalidVerifier();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(VERIFIER_ROLE, verifier);
    }

    // ---------------------------------------------------------------------------------------------
    // Verifying and revoking
    // ---------------------------------------------------------------------------------------------

    /// @notice Verifies `investor` with the hash of their claim, or replaces that hash.
    /// @dev Only VERIFIER_ROLE. Reverts with InvalidInvestor or InvalidClaimHash.
    /// @param investor The investor's wallet (non-zero).
    /// @param claimHash Hash of the claim that verified them (non-zero).
    function verifyInvestor(address investor, bytes32 claimHash) external onlyRole(VERIFIER_ROLE) {
        if (investor == address(0)) revert InvalidInvestor();
        if (claimHash == bytes32(0)) revert InvalidClaimHash();
        _claims[investor] = claimHash;
        emit InvestorVerified(investor, claimHash, uint64(block.timestamp));
    }

    /// @notice Revokes an investor's verification: they can no longer invest or receive certificates
    ///         by transfer.
    /// @dev Only VERIFIER_ROLE. Reverts with InvestorNotVerified. Investments already recorded stay.
    /// @param investor The investor's wallet.
    /// @param reason Application-defined reason code.
    function revokeInvestor(address investor, bytes32 reason) external onlyRole(VERIFIER_ROLE) {
        if (_claims[investor] == bytes32(0)) revert InvestorNotVerified(investor);
        delete _claims[investor];
        emit InvestorRevoked(investor, reason, uint64(block.timestamp));
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice Whether `investor` is verified now.
    /// @param investor The investor's wallet.
    function isVerified(address investor) external view returns (bool) {
        return _claims[investor] != bytes32(0);
    }

    /// @notice The hash of the claim that verified `investor`; zero if they are not verified.
    /// @param investor The investor's wallet.
    function claimOf(address investor) external view returns (bytes32) {
        return _claims[investor];
    }
}
