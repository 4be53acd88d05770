// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Campaign, ICampaignFactory} from "./Campaign.sol";
import {InvestorRegistry} from "./InvestorRegistry.sol";
import {IssuerRegistry} from "./IssuerRegistry.sol";

/// @title Campaign factory of the issuer platform
/// @notice Deploys one {Campaign} per campaign, for registered issuers only, and announces it with
///         {CampaignCreated}: the indexer discovers campaigns through this event (a factory source)
///         and follows their events from then on.
/// @dev Campaigns are deployed with CREATE2, the salt being the platform's reference for the
///      campaign, and their constructor takes no arguments: a campaign's address depends only on
///      this factory and the reference ({predictCampaign}), so the platform knows it before the
///      deployment is mined, and a retried deployment for the same reference cannot create a
///      second campaign: it reverts with {CampaignExists}, naming the campaign that exists.
///
///      Roles: the admin (DEFAULT_ADMIN_ROLE) manages roles; PLATFORM_ROLE creates campaigns and is
///      also the platform of every campaign (recording investments and refunds) and of the
///      {ShareCertificate} (minting), asked at every call. The platform account given at
///      construction holds it first; the admin grants it to others or revokes it.
contract CampaignFactory is AccessControl, ICampaignFactory {
    // ---------------------------------------------------------------------------------------------
    // Roles
    // ---------------------------------------------------------------------------------------------

    /// @notice The platform: creates campaigns and writes to them.
    bytes32 public constant PLATFORM_ROLE = keccak256("PLATFORM_ROLE");

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor was given the zero address as admin.
    error InvalidAdmin();
    /// @notice The constructor was given the zero address as platform.
    error InvalidPlatform();
    /// @notice The constructor was given the zero address as a registry.
    error InvalidRegistry();
    /// @notice The campaign reference is zero.
    error InvalidReference();
    /// @notice A campaign with this reference exists already, at `campaign`.
    error CampaignExists(bytes32 campaignReference, address campaign);
    /// @notice The issuer is not registered in the issuer registry.
    error IssuerNotRegistered(address issuer);
    /// @notice The amounts are not `0 < minimum <= target`.
    error InvalidAmounts(uint256 target, uint256 minimum);
    /// @notice The deadline is not in the future.
    error InvalidDeadline(uint64 deadline);

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice A campaign was deployed.
    /// @param campaign The new campaign's address (equal to {predictCampaign} of the reference).
    /// @param issuer The registered issuer raising the money.
    /// @param campaignReference The platform's id of the campaign.
    /// @param target The most the campaign may raise.
    /// @param minimum The least it must raise to succeed.
    /// @param deadline Unix time at which the campaign closes to investments.
    event CampaignCreated(
        address indexed campaign,
        address indexed issuer,
        bytes32 indexed campaignReference,
        uint256 target,
        uint256 minimum,
        uint64 deadline
    );

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    /// @notice The registry of issuers allowed to raise money.
    IssuerRegistry public immutable issuerRegistry;
    /// @notice The registry of verified investors that campaigns and certificates consult.
    InvestorRegistry public immutable investorRegistry;

    /// @dev keccak256 of the Campaign creation code, for {predictCampaign}.
    bytes32 private immutable _campaignCodeHash;

    /// @dev Set only while {createCampaign} deploys a campaign, so its constructor can read it.
    CampaignParams private _pending;

    mapping(address campaign => bytes32 campaignReference) private _references;

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @param admin Account that receives DEFAULT_ADMIN_ROLE (grants and revokes PLATFORM_ROLE).
    /// @param platform The platform account: receives PLATFORM_ROLE (may be the admin).
    /// @param issuers The issuer registry consulted by {createCampaign}.
    /// @param investors The investor registry consulted by campaigns and certificates.
    constructor(address admin, address platform, IssuerRegistry issuers, InvestorRegistry investors) {
        if (admin == address(0)) revert InvalidAdmin();
        if (platform == address(0)) revert InvalidPlatform();
        if (address(issuers) == address(0) || address(investors) == address(0)) revert InvalidRegistry();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PLATFORM_ROLE, platform);
        issuerRegistry = issuers;
        investorRegistry = investors;
        _campaignCodeHash = keccak256(type(Campaign).creationCode);
    }

    // ---------------------------------------------------------------------------------------------
    // Creating campaigns
    // ---------------------------------------------------------------------------------------------

    /// @notice Deploys the campaign for `campaignReference` at {predictCampaign}(`campaignReference`)
    ///         and emits {CampaignCreated}.
    /// @dev Only PLATFORM_ROLE. Checks, in order: the reference is non-zero (InvalidReference) and
    ///      unused (CampaignExists, checked before anything that may change in the meantime, so a
    ///      retry always learns that its first attempt landed), the issuer is registered
    ///      (IssuerNotRegistered), `0 < minimum <= target` (InvalidAmounts) and the deadline is in
    ///      the future (InvalidDeadline).
    /// @param issuer The registered issuer raising the money.
    /// @param target The most the campaign may raise.
    /// @param minimum The least it must raise to succeed.
    /// @param deadline Unix time at which the campaign closes to investments.
    /// @param campaignReference The platform's id of the campaign (non-zero; one campaign each).
    /// @return campaign The new campaign's address.
    function createCampaign(
        address issuer,
        uint256 target,
        uint256 minimum,
        uint64 deadline,
        bytes32 campaignReference
    ) external onlyRole(PLATFORM_ROLE) returns (address campaign) {
        if (campaignReference == bytes32(0)) revert InvalidReference();
        campaign = predictCampaign(campaignReference);
        if (campaign.code.length != 0) revert CampaignExists(campaignReference, campaign);
        if (!issuerRegistry.isRegisteredIssuer(issuer)) revert IssuerNotRegistered(issuer);
        if (minimum == 0 || minimum > target) revert InvalidAmounts(target, minimum);
        if (deadline <= block.timestamp) revert InvalidDeadline(deadline);

        _pending = CampaignParams({
            issuer: issuer,
            deadline: deadline,
            target: target,
            minimum: minimum,
            campaignReference: campaignReference
        });
        new Campaign{salt: campaignReference}();
        delete _pending;
        _references[campaign] = campaignReference;
        emit CampaignCreated(campaign, issuer, campaignReference, target, minimum, deadline);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice The address the campaign for `campaignReference` is (or would be) deployed at.
    /// @param campaignReference The platform's id of the campaign.
    function predictCampaign(bytes32 campaignReference) public view returns (address) {
        bytes32 hash = keccak256(abi.encodePacked(bytes1(0xff), address(this), campaignReference, _campaignCodeHash));
        return address(uint160(uint256(hash)));
    }

    /// @notice The campaign deployed for `campaignReference`, or the zero address if none is.
    /// @param campaignReference The platform's id of the campaign.
    function campaignOf(bytes32 campaignReference) external view returns (address) {
        address campaign = predictCampaign(campaignReference);
        return _references[campaign] != bytes32(0) ? campaign : address(0);
    }

    /// @notice Whether `campaign` is a campaign this factory deployed.
    /// @param campaign Any address.
    function isCampaign(address campaign) external view returns (bool) {
        return _references[campaign] != bytes32(0);
    }

    /// @inheritdoc ICampaignFactory
    function isPlatform(address account) external view returns (bool) {
        return hasRole(PLATFORM_ROLE, account);
    }

    /// @inheritdoc ICampaignFactory
    /// @dev The zero record outside {createCampaign}.
    function pendingCampaign() external view returns (CampaignParams memory) {
        return _pending;
    }
}
