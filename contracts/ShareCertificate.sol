// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC165, ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
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
///      contract has no roles of its own. Only campaigns of that factory are accepted. Minting
///      makes no callback into the investor's wallet (no `onERC721Received` on mint).
///
///      The ERC-721 logic is OpenZeppelin 5's `ERC721` (MIT), reduced: OpenZeppelin 5.7's `ERC721`
///      imports `Strings`, whose `Bytes` uses MCOPY and does not compile for the `paris` EVM that
///      Polygon Edge needs. Certificates have no token URI (`tokenURI` answers "" for a certificate
///      that exists); everything else behaves as OpenZeppelin's, with its errors (IERC721Errors).
contract ShareCertificate is ERC165, IERC721, IERC721Metadata, IERC721Errors {
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

    mapping(uint256 tokenId => address) private _owners;
    mapping(address owner => uint256) private _balances;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(address owner => mapping(address operator => bool)) private _operatorApprovals;

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @param factory_ The campaign factory (non-zero).
    constructor(CampaignFactory factory_) {
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
        _update(investor, tokenId, address(0));
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
    // ERC-721
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || super.supportsInterface(interfaceId);
    }

    /// @inheritdoc IERC721Metadata
    function name() external pure returns (string memory) {
        return "Issuer Platform Share Certificate";
    }

    /// @inheritdoc IERC721Metadata
    function symbol() external pure returns (string memory) {
        return "SHARE";
    }

    /// @inheritdoc IERC721Metadata
    /// @dev Always "" for a certificate that exists: what it stands for is {certificate}.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        _requireOwned(tokenId);
        return "";
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[owner];
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _requireOwned(tokenId);
    }

    /// @inheritdoc IERC721
    function approve(address to, uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        if (owner != msg.sender && !_operatorApprovals[owner][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 tokenId) external view returns (address) {
        _requireOwned(tokenId);
        return _tokenApprovals[tokenId];
    }

    /// @inheritdoc IERC721
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ERC721InvalidOperator(operator);
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 tokenId) public {
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        address previousOwner = _update(to, tokenId, msg.sender);
        if (previousOwner != from) revert ERC721IncorrectOwner(from, tokenId, previousOwner);
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, data);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    function _requireOwned(uint256 tokenId) private view returns (address owner) {
        owner = _owners[tokenId];
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }

    /// @dev Moves `tokenId` to `to` (a mint if it has no owner), emitting {Transfer}. With a non-zero
    ///      `auth`, checks first that `auth` owns the token or is approved for it (OpenZeppelin's
    ///      errors). A transfer between holders (not a mint) needs a verified recipient
    ///      (RecipientNotVerified). Returns the previous owner.
    function _update(address to, uint256 tokenId, address auth) private returns (address from) {
        from = _owners[tokenId];
        if (auth != address(0)) {
            bool authorized = from == auth || _operatorApprovals[from][auth] || _tokenApprovals[tokenId] == auth;
            if (!authorized) {
                if (from == address(0)) revert ERC721NonexistentToken(tokenId);
                revert ERC721InsufficientApproval(auth, tokenId);
            }
        }
        if (from != address(0)) {
            if (!factory.investorRegistry().isVerified(to)) revert RecipientNotVerified(to);
            delete _tokenApprovals[tokenId];
            unchecked {
                --_balances[from];
            }
        }
        unchecked {
            ++_balances[to];
        }
        _owners[tokenId] = to;
        emit Transfer(from, to, tokenId);
    }
}
