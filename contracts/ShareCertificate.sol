// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Campaign} from "./Campaign.sol";
import {CampaignFactory} from "./CampaignFactory.sol";

/// @title Share certificates of the issuer platform (ERC-721)
/// @notice One certificate per investment of a successful campaign, minted by the platform to the
///         investor who made it. A certificate moves only to verified investors (the ERC-3643 idea
///         of transfers checked against the identity registry, kept small).
/// @dev A certificate's token id is derived from its campaign and investment reference
///      ({certificateId}), not from a counter: the platform knows it before the mint is mined, it
///      does not change if blocks are reorganised and mints land in another order, and it is minted
///      at most once. Each mint emits the standard {Transfer} (from the zero address) followed by
///      {CertificateMinted}, which names the campaign and investment the token stands for.
///
///      The platform is whoever holds the factory's PLATFORM_ROLE now, asked at every call; this
///      contract has no roles of its own. Only campaigns of that factory are accepted. Minting uses
///      `_mint`, not `_safeMint`: no callback into the investor's wallet.
contract ShareCertificate is ERC721 {
    // ---------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------

    /// @notice What a certificate stands for, as returned by {certificate}.
    /// @param campaign The campaign invested in; zero if no certificate has this id.
    /// @param investmentReference The platform's id of the investment.
    struct Certificate {
        address campaign;
        bytes32 investmentReference;
    }

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor was given the zero address as factory.
    error InvalidFactory();
    /// @notice The caller does not hold the factory's PLATFORM_ROLE.
    error NotPlatform(address caller);
    /// @notice The address is not a campaign of the factory.
    error UnknownCampaign(address campaign);
    /// @notice The certificate for this investment was minted already, as `tokenId`.
    error CertificateAlreadyMinted(address campaign, bytes32 investmentReference, uint256 tokenId);
    /// @notice Certificates need a successful campaign; this one's status is `status`.
    error CampaignNotSuccessful(address campaign, Campaign.Status status);
    /// @notice The campaign has no investment with this reference.
    error InvestmentNotFound(address campaign, bytes32 investmentReference);
    /// @notice The investment was made by `recorded`, not by `investor`.
    error InvestorMismatch(bytes32 investmentReference, address recorded, address investor);
    /// @notice A certificate may be transferred only to a verified investor.
    error RecipientNotVerified(address to);

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice A certificate was minted; the {Transfer} of the same token comes just before it.
    /// @param tokenId The certificate's token id ({certificateId} of campaign and reference).
    /// @param campaign The campaign invested in.
    /// @param investmentReference The platform's id of the investment.
    /// @param investor The investor, to whom it was minted.
    event CertificateMinted(
        uint256 indexed tokenId, address indexed campaign, bytes32 indexed investmentReference, address investor
    );

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    /// @notice The factory whose campaigns this contract certifies and whose PLATFORM_ROLE mints.
    CampaignFactory public immutable factory;

    /// @notice Number of certificates minted for each campaign.
    mapping(address campaign => uint256) public certificatesMinted;

    mapping(uint256 tokenId => Certificate) private _certificates;

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @param factory_ The campaign factory (non-zero).
    constructor(CampaignFactory factory_) ERC721("Issuer Platform Share Certificate", "SHARE") {
        if (address(factory_) == address(0)) revert InvalidFactory();
        factory = factory_;
    }

    // ---------------------------------------------------------------------------------------------
    // Minting
    // ---------------------------------------------------------------------------------------------

    /// @notice Mints the certificate of one investment of a successful campaign to its investor.
    /// @dev Only the platform. Checks, in order: the caller is the platform (NotPlatform), the
    ///      campaign is the factory's (UnknownCampaign), the certificate was not minted yet
    ///      (CertificateAlreadyMinted, checked before anything else about the campaign so a retry
    ///      learns that its first attempt landed), the campaign is Successful
    ///      (CampaignNotSuccessful), the investment exists (InvestmentNotFound) and was made by
    ///      `investor` (InvestorMismatch). The investor's verification is not checked again: it was
    ///      when the investment was recorded.
    /// @param campaign The campaign invested in.
    /// @param investor The investor who made the investment.
    /// @param investmentReference The platform's id of the investment.
    /// @return tokenId The certificate's token id, {certificateId}(`campaign`, `investmentReference`).
    function mint(address campaign, address investor, bytes32 investmentReference)
        external
        returns (uint256 tokenId)
    {
        if (!factory.isPlatform(msg.sender)) revert NotPlatform(msg.sender);
        if (!factory.isCampaign(campaign)) revert UnknownCampaign(campaign);
        tokenId = certificateId(campaign, investmentReference);
        if (_certificates[tokenId].campaign != address(0)) {
            revert CertificateAlreadyMinted(campaign, investmentReference, tokenId);
        }
        Campaign.Status status = Campaign(campaign).status();
        if (status != Campaign.Status.Successful) revert CampaignNotSuccessful(campaign, status);
        address recorded = Campaign(campaign).investment(investmentReference).investor;
        if (recorded == address(0)) revert InvestmentNotFound(campaign, investmentReference);
        if (recorded != investor) revert InvestorMismatch(investmentReference, recorded, investor);

        _certificates[tokenId] = Certificate({campaign: campaign, investmentReference: investmentReference});
        ++certificatesMinted[campaign];
        _mint(investor, tokenId);
        emit CertificateMinted(tokenId, campaign, investmentReference, investor);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice The token id of the certificate for an investment, whether or not it is minted:
    ///         `uint256(keccak256(abi.encode(campaign, investmentReference)))`.
    /// @param campaign The campaign invested in.
    /// @param investmentReference The platform's id of the investment.
    function certificateId(address campaign, bytes32 investmentReference) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(campaign, investmentReference)));
    }

    /// @notice What certificate `tokenId` stands for; all zero if it was never minted.
    /// @param tokenId The certificate's token id.
    function certificate(uint256 tokenId) external view returns (Certificate memory) {
        return _certificates[tokenId];
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev Transfers between holders (not mints) need a verified recipient (RecipientNotVerified);
    ///      ERC-721's own checks (ownership, approval) come first.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && to != address(0) && !factory.investorRegistry().isVerified(to)) {
            revert RecipientNotVerified(to);
        }
    }
}
