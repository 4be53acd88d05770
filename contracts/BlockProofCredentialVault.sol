// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title BlockProof credential vault
/// @notice Registry of academic credentials. Registered institutions issue credentials to students,
///         each anchored by a unique document fingerprint, and may later revoke them. Anyone can
///         read a credential's status or check a fingerprint against it.
/// @dev The admin (DEFAULT_ADMIN_ROLE) only manages the institution registry; it cannot issue or
///      revoke unless it is itself registered as an active institution.
contract BlockProofCredentialVault is AccessControl {
    // ---------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------

    /// @notice An institution as registered by the admin.
    /// @dev Storage layout: name, metadataURI, then (active, exists, updatedAt) packed in one slot.
    struct Institution {
        string name;
        string metadataURI;
        bool active;
        bool exists;
        uint64 updatedAt;
    }

    /// @notice One credential to issue.
    /// @param student Holder of the credential (non-zero).
    /// @param fingerprint Hash of the credential document (non-zero, unique forever).
    /// @param metadataURI Off-chain metadata location (may be empty).
    /// @param expiresAt Unix time at which the credential expires; 0 means it never expires.
    struct IssueRequest {
        address student;
        bytes32 fingerprint;
        string metadataURI;
        uint64 expiresAt;
    }

    /// @notice Full status of a credential, as returned by {credentialStatus}.
    struct CredentialStatus {
        bool exists;
        bool valid;
        bool revoked;
        bool expired;
        address institution;
        bool institutionActive;
        address student;
        bytes32 fingerprint;
        string metadataURI;
        uint64 issuedAt;
        uint64 expiresAt;
        uint64 revokedAt;
        bytes32 revocationReason;
    }

    /// @dev Storage record of a credential. Slot 0: institution + issuedAt; slot 1: student +
    ///      expiresAt; slot 2: revokedAt + revoked; then fingerprint, revocationReason, metadataURI.
    ///      Issuing writes slots 0, 1, fingerprint and the URI; revoking writes slot 2 and the reason.
    struct Credential {
        address institution;
        uint64 issuedAt;
        address student;
        uint64 expiresAt;
        uint64 revokedAt;
        bool revoked;
        bytes32 fingerprint;
        bytes32 revocationReason;
        string metadataURI;
    }

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor was given the zero address as admin.
    error InvalidAdmin();
    /// @notice {upsertInstitution} was given the zero address.
    error InvalidInstitution();
    /// @notice The caller is not a registered, active institution.
    error InstitutionNotActive(address institution);
    /// @notice The student is the zero address.
    error InvalidStudent();
    /// @notice The fingerprint is zero.
    error InvalidFingerprint();
    /// @notice The expiry is non-zero and not in the future.
    error InvalidExpiry(uint64 expiresAt);
    /// @notice The fingerprint was already used by credential `existingId` (revoked or not).
    error FingerprintAlreadyUsed(bytes32 fingerprint, uint256 existingId);
    /// @notice No credential has this id.
    error CredentialNotFound(uint256 id);
    /// @notice The caller did not issue this credential.
    error NotCredentialIssuer(uint256 id, address caller);
    /// @notice The credential is already revoked.
    error CredentialAlreadyRevoked(uint256 id);
    /// @notice {issueCredentials} was given no requests.
    error EmptyBatch();

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice An institution was registered or its details changed.
    /// @param institution The institution's address.
    /// @param name Display name.
    /// @param metadataURI Off-chain metadata location.
    /// @param active Whether it may issue and revoke.
    /// @param updatedAt Block timestamp of the change.
    event InstitutionUpserted(
        address indexed institution, string name, string metadataURI, bool active, uint64 updatedAt
    );

    /// @notice A credential was issued.
    /// @param id Sequential credential id, starting at 1.
    /// @param institution The issuing institution.
    /// @param student The holder.
    /// @param fingerprint Hash of the credential document.
    /// @param metadataURI Off-chain metadata location.
    /// @param issuedAt Block timestamp of issuance.
    /// @param expiresAt Expiry time, 0 if it never expires.
    event CredentialIssued(
        uint256 indexed id,
        address indexed institution,
        address indexed student,
        bytes32 fingerprint,
        string metadataURI,
        uint64 issuedAt,
        uint64 expiresAt
    );

    /// @notice A credential was revoked by its issuer.
    /// @param id The credential id.
    /// @param institution The issuing (and revoking) institution.
    /// @param reason Application-defined reason code.
    /// @param revokedAt Block timestamp of the revocation.
    event CredentialRevoked(uint256 indexed id, address indexed institution, bytes32 reason, uint64 revokedAt);

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    mapping(address institution => Institution) private _institutions;
    mapping(uint256 id => Credential) private _credentials;
    mapping(bytes32 fingerprint => uint256 id) private _idByFingerprint;
    uint256 private _credentialCount;

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @param admin Account that receives DEFAULT_ADMIN_ROLE (manages institutions and roles).
    constructor(address admin) {
        if (admin == address(0)) revert InvalidAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------------------------------------
    // Institutions
    // ---------------------------------------------------------------------------------------------

    /// @notice Registers an institution or updates its name, metadata and active flag.
    /// @dev Only DEFAULT_ADMIN_ROLE. Deactivating an institution stops it from issuing and revoking,
    ///      but does not invalidate what it already issued (see {credentialStatus}).
    ///      The parameter is named `account` (not `institution`) so it does not shadow {institution}.
    /// @param account The institution's address (non-zero).
    /// @param name Display name.
    /// @param metadataURI Off-chain metadata location.
    /// @param active Whether it may issue and revoke.
    function upsertInstitution(address account, string calldata name, string calldata metadataURI, bool active)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert InvalidInstitution();
        uint64 nowTs = uint64(block.timestamp);
        Institution storage record = _institutions[account];
        record.name = name;
        record.metadataURI = metadataURI;
        record.active = active;
        record.exists = true;
        record.updatedAt = nowTs;
        emit InstitutionUpserted(account, name, metadataURI, active, nowTs);
    }

    /// @notice Returns an institution's record; `exists` is false if it was never registered.
    /// @param account The institution's address.
    function institution(address account) external view returns (Institution memory) {
        return _institutions[account];
    }

    // ---------------------------------------------------------------------------------------------
    // Issuing and revoking
    // ---------------------------------------------------------------------------------------------

    /// @notice Issues one credential from the calling institution.
    /// @dev Reverts with InstitutionNotActive, InvalidStudent, InvalidFingerprint, InvalidExpiry or
    ///      FingerprintAlreadyUsed.
    /// @param request The credential to issue.
    /// @return id The new credential's id.
    function issueCredential(IssueRequest calldata request) external returns (uint256 id) {
        _requireActiveInstitution(msg.sender);
        id = _issue(request, _credentialCount + 1);
        _credentialCount = id;
    }

    /// @notice Issues several credentials from the calling institution in one transaction.
    /// @dev Each request follows the rules of {issueCredential}; if any fails the whole batch
    ///      reverts (including a fingerprint repeated inside the batch). Reverts with EmptyBatch if
    ///      `requests` is empty.
    /// @param requests The credentials to issue, in order.
    /// @return ids The new ids, one per request, in the same order.
    function issueCredentials(IssueRequest[] calldata requests) external returns (uint256[] memory ids) {
        uint256 n = requests.length;
        if (n == 0) revert EmptyBatch();
        _requireActiveInstitution(msg.sender);
        ids = new uint256[](n);
        uint256 next = _credentialCount;
        for (uint256 i = 0; i < n; ++i) {
            unchecked {
                ++next;
            }
            ids[i] = _issue(requests[i], next);
        }
        _credentialCount = next;
    }

    /// @notice Revokes a credential. Only its issuing institution may do so, and only while active.
    /// @dev Checks, in order: the caller is an active institution (InstitutionNotActive), the
    ///      credential exists (CredentialNotFound), the caller issued it (NotCredentialIssuer), it is
    ///      not already revoked (CredentialAlreadyRevoked). Its fingerprint stays used forever.
    /// @param id The credential id.
    /// @param reason Application-defined reason code.
    function revokeCredential(uint256 id, bytes32 reason) external {
        _requireActiveInstitution(msg.sender);
        Credential storage c = _credentials[id];
        address issuer = c.institution;
        if (issuer == address(0)) revert CredentialNotFound(id);
        if (issuer != msg.sender) revert NotCredentialIssuer(id, msg.sender);
        if (c.revoked) revert CredentialAlreadyRevoked(id);
        uint64 nowTs = uint64(block.timestamp);
        c.revoked = true;
        c.revokedAt = nowTs;
        c.revocationReason = reason;
        emit CredentialRevoked(id, msg.sender, reason, nowTs);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice Returns everything known about a credential. Never reverts: an unknown id returns a
    ///         record with `exists == false` and every other field zero.
    /// @dev `valid` is `exists && !revoked && !expired`, where `expired` means
    ///      `expiresAt != 0 && block.timestamp >= expiresAt`. Whether the issuing institution is
    ///      still active is reported separately in `institutionActive` and is NOT folded into
    ///      `valid`: deactivating an institution does not invalidate credentials it already issued.
    /// @param id The credential id.
    function credentialStatus(uint256 id) external view returns (CredentialStatus memory status) {
        Credential storage c = _credentials[id];
        address issuer = c.institution;
        if (issuer == address(0)) return status;
        bool expired = _isExpired(c.expiresAt);
        bool revoked = c.revoked;
        status.exists = true;
        status.valid = !revoked && !expired;
        status.revoked = revoked;
        status.expired = expired;
        status.institution = issuer;
        status.institutionActive = _institutions[issuer].active;
        status.student = c.student;
        status.fingerprint = c.fingerprint;
        status.metadataURI = c.metadataURI;
        status.issuedAt = c.issuedAt;
        status.expiresAt = c.expiresAt;
        status.revokedAt = c.revokedAt;
        status.revocationReason = c.revocationReason;
    }

    /// @notice True only if credential `id` exists, its fingerprint equals `fingerprint`, and it is
    ///         valid (not revoked and not expired). Like `valid` in {credentialStatus}, it ignores
    ///         whether the issuing institution is still active.
    /// @param id The credential id.
    /// @param fingerprint The fingerprint to check.
    function verifyFingerprint(uint256 id, bytes32 fingerprint) external view returns (bool) {
        Credential storage c = _credentials[id];
        if (c.institution == address(0)) return false;
        return c.fingerprint == fingerprint && !c.revoked && !_isExpired(c.expiresAt);
    }

    /// @notice The id of the credential that used `fingerprint`, or 0 if none did.
    /// @param fingerprint The fingerprint to look up.
    function credentialIdByFingerprint(bytes32 fingerprint) external view returns (uint256) {
        return _idByFingerprint[fingerprint];
    }

    /// @notice Number of credentials ever issued; also the highest id.
    function credentialCount() external view returns (uint256) {
        return _credentialCount;
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    function _requireActiveInstitution(address account) private view {
        if (!_institutions[account].active) revert InstitutionNotActive(account);
    }

    function _isExpired(uint64 expiresAt) private view returns (bool) {
        return expiresAt != 0 && block.timestamp >= expiresAt;
    }

    /// @dev Validates `request` and stores it as credential `id`; the caller updates the counter.
    function _issue(IssueRequest calldata request, uint256 id) private returns (uint256) {
        address student = request.student;
        bytes32 fingerprint = request.fingerprint;
        uint64 expiresAt = request.expiresAt;
        if (student == address(0)) revert InvalidStudent();
        if (fingerprint == bytes32(0)) revert InvalidFingerprint();
        if (expiresAt != 0 && expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt);
        uint256 existing = _idByFingerprint[fingerprint];
        if (existing != 0) revert FingerprintAlreadyUsed(fingerprint, existing);

        uint64 nowTs = uint64(block.timestamp);
        _idByFingerprint[fingerprint] = id;
        Credential storage c = _credentials[id];
        c.institution = msg.sender;
        c.issuedAt = nowTs;
        c.student = student;
        c.expiresAt = expiresAt;
        c.fingerprint = fingerprint;
        if (bytes(request.metadataURI).length != 0) c.metadataURI = request.metadataURI;

        emit CredentialIssued(id, msg.sender, student, fingerprint, request.metadataURI, nowTs, expiresAt);
        return id;
    }
}
