// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InvestorRegistry} from "./InvestorRegistry.sol";

/// @title What a {Campaign} asks of the factory deploying it
/// @notice Implemented by {CampaignFactory}.
interface ICampaignFactory {
    /// @notice The terms of the campaign being deployed, handed to its constructor.
    /// @param issuer The registered issuer raising the money.
    /// @param deadline Unix time at which the campaign closes to investments.
    /// @param target The most the campaign may raise.
    /// @param minimum The least it must raise to succeed.
    /// @param campaignReference The platform's id of the campaign (the CREATE2 salt).
    struct CampaignParams {
        address issuer;
        uint64 deadline;
        uint256 target;
        uint256 minimum;
        bytes32 campaignReference;
    }

    /// @notice The terms of the campaign whose deployment is under way; all zero at any other time.
    function pendingCampaign() external view returns (CampaignParams memory);

    /// @notice The registry of verified investors that campaigns consult.
    function investorRegistry() external view returns (InvestorRegistry);

    /// @notice Whether `account` holds the platform role, the one that writes to campaigns.
    /// @param account Any address.
    function isPlatform(address account) external view returns (bool);
}

/// @title One crowdfunding campaign of the issuer platform
/// @notice A registered issuer raises between `minimum` and `target` until `deadline`. The
///         platform records each investment of a verified investor under the platform's own
///         reference for it; after the deadline anyone may finalise the campaign, which succeeds if
///         it raised at least `minimum` and fails otherwise. On failure the platform marks each
///         investment refunded, once.
/// @dev Amounts are records, not payments: investors pay in fiat, settled off chain, and this
///      contract holds no money (it has no payable function and refuses ether). "Raised" is the sum
///      of the recorded amounts, in whatever unit the platform uses (e.g. euro cents).
///
///      Deployed only by {CampaignFactory} with CREATE2 (salt = the campaign reference). The
///      constructor takes no arguments, so a campaign's address depends only on the factory and
///      the reference; it reads its terms back from the factory's {ICampaignFactory.pendingCampaign}.
///      Deployed from an account, the constructor reverts.
///
///      The platform is whoever holds the factory's PLATFORM_ROLE now, asked at every call: a
///      platform key revoked in the factory can no longer write to any campaign, and a new one can
///      write to the campaigns created before it.
///
///      Every write is idempotent on chain: a repeated investment reference reverts with
///      {InvestmentAlreadyRecorded}, a repeated refund with {AlreadyRefunded}, a repeated
///      finalisation with {AlreadyFinalized}, each checked before anything that may change in the
///      meantime (the deadline, the investor's verification), so a retried write learns that its
///      first attempt landed.
contract Campaign {
    // ---------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------

    /// @notice Where the campaign stands. It is open to investments while `Open` and before the
    ///         deadline (see {isOpen}); {finalize} moves it to `Successful` or `Failed`, for good.
    enum Status {
        Open,
        Successful,
        Failed
    }

    /// @notice One recorded investment, as returned by {investment}.
    /// @param investor The investor's wallet; zero if no investment has this reference.
    /// @param recordedAt Block timestamp of the recording.
    /// @param refunded Whether it was marked refunded.
    /// @param amount The amount invested (a record; see the contract's notes).
    struct Investment {
        address investor;
        uint64 recordedAt;
        bool refunded;
        uint256 amount;
    }

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The caller does not hold the factory's PLATFORM_ROLE.
    error NotPlatform(address caller);
    /// @notice The investment reference is zero.
    error InvalidReference();
    /// @notice The amount is zero.
    error InvalidAmount();
    /// @notice An investment with this reference was recorded already (to `investor`, for `amount`).
    error InvestmentAlreadyRecorded(bytes32 investmentReference, address investor, uint256 amount);
    /// @notice The campaign no longer takes investments: its deadline has passed.
    error CampaignClosed(uint64 deadline);
    /// @notice The investor is not verified in the investor registry.
    error InvestorNotVerified(address investor);
    /// @notice Recording `amount` on top of `raised` would exceed the campaign's target.
    error TargetExceeded(uint256 raised, uint256 amount, uint256 target);
    /// @notice The deadline has not passed yet: the campaign cannot be finalised.
    error DeadlineNotReached(uint64 deadline);
    /// @notice The campaign was finalised already, with this status.
    error AlreadyFinalized(Status status);
    /// @notice Refunds need a failed campaign; this one's status is `status`.
    error CampaignNotFailed(Status status);
    /// @notice No investment has this reference.
    error InvestmentNotFound(bytes32 investmentReference);
    /// @notice The investment was marked refunded already.
    error AlreadyRefunded(bytes32 investmentReference);

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice An investment was recorded.
    /// @param investor The investor's wallet.
    /// @param amount The amount invested.
    /// @param investmentReference The platform's id of the investment.
    event InvestmentRecorded(address indexed investor, uint256 amount, bytes32 indexed investmentReference);

    /// @notice The campaign was finalised after its deadline.
    /// @param successful True if it raised at least its minimum (status Successful), else false
    ///        (status Failed).
    /// @param raised The total recorded.
    event CampaignFinalized(bool successful, uint256 raised);

    /// @notice An investment of a failed campaign was marked refunded.
    /// @param investor The investor's wallet.
    /// @param amount The amount refunded (the amount invested).
    /// @param investmentReference The platform's id of the investment.
    event InvestmentRefunded(address indexed investor, uint256 amount, bytes32 indexed investmentReference);

    // ---------------------------------------------------------------------------------------------
    // Terms (fixed at deployment)
    // ---------------------------------------------------------------------------------------------

    /// @notice The factory that deployed this campaign; its PLATFORM_ROLE is the platform.
    ICampaignFactory public immutable factory;
    /// @notice The registry of verified investors.
    InvestorRegistry public immutable investorRegistry;
    /// @notice The issuer raising the money.
    address public immutable issuer;
    /// @notice Unix time at which the campaign closes to investments.
    uint64 public immutable deadline;
    /// @notice The most the campaign may raise.
    uint256 public immutable target;
    /// @notice The least it must raise to succeed.
    uint256 public immutable minimum;
    /// @notice The platform's id of the campaign (the CREATE2 salt of its deployment).
    bytes32 public immutable campaignReference;

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    /// @notice Where the campaign stands (see {Status}).
    Status public status;
    /// @notice Sum of the recorded amounts.
    uint256 public raised;
    /// @notice Number of investments recorded.
    uint256 public investmentCount;
    /// @notice Number of investments marked refunded.
    uint256 public refundedCount;

    mapping(bytes32 investmentReference => Investment) private _investments;

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @dev Reads the terms from the deploying factory's {ICampaignFactory.pendingCampaign}.
    constructor() {
        ICampaignFactory factory_ = ICampaignFactory(msg.sender);
        ICampaignFactory.CampaignParams memory params = factory_.pendingCampaign();
        factory = factory_;
        investorRegistry = factory_.investorRegistry();
        issuer = params.issuer;
        deadline = params.deadline;
        target = params.target;
        minimum = params.minimum;
        campaignReference = params.campaignReference;
    }

    // ---------------------------------------------------------------------------------------------
    // Investments
    // ---------------------------------------------------------------------------------------------

    /// @notice Records an investment of a verified investor.
    /// @dev Only the platform. Checks, in order: the caller is the platform (NotPlatform), the
    ///      reference is non-zero (InvalidReference) and unused (InvestmentAlreadyRecorded), the
    ///      deadline has not passed (CampaignClosed), the amount is non-zero (InvalidAmount), the
    ///      investor is verified (InvestorNotVerified), and the target is not exceeded
    ///      (TargetExceeded).
    /// @param investor The investor's wallet.
    /// @param amount The amount invested (non-zero; a record, no money moves).
    /// @param investmentReference The platform's id of the investment (non-zero, once per campaign).
    function recordInvestment(address investor, uint256 amount, bytes32 investmentReference) external {
        _requirePlatform();
        if (investmentReference == bytes32(0)) revert InvalidReference();
        Investment storage record = _investments[investmentReference];
        if (record.investor != address(0)) {
            revert InvestmentAlreadyRecorded(investmentReference, record.investor, record.amount);
        }
        if (block.timestamp >= deadline) revert CampaignClosed(deadline);
        if (amount == 0) revert InvalidAmount();
        if (!investorRegistry.isVerified(investor)) revert InvestorNotVerified(investor);
        uint256 raised_ = raised;
        if (amount > target - raised_) revert TargetExceeded(raised_, amount, target);

        record.investor = investor;
        record.recordedAt = uint64(block.timestamp);
        record.amount = amount;
        raised = raised_ + amount;
        ++investmentCount;
        emit InvestmentRecorded(investor, amount, investmentReference);
    }

    // ---------------------------------------------------------------------------------------------
    // Closing
    // ---------------------------------------------------------------------------------------------

    /// @notice Closes the campaign after its deadline: Successful if it raised at least its
    ///         minimum, Failed otherwise. Anyone may call it; the outcome depends only on the chain.
    /// @dev Reverts with AlreadyFinalized (checked first) or DeadlineNotReached.
    /// @return successful Whether the campaign succeeded.
    function finalize() external returns (bool successful) {
        Status current = status;
        if (current != Status.Open) revert AlreadyFinalized(current);
        if (block.timestamp < deadline) revert DeadlineNotReached(deadline);
        uint256 raised_ = raised;
        successful = raised_ >= minimum;
        status = successful ? Status.Successful : Status.Failed;
        emit CampaignFinalized(successful, raised_);
    }

    /// @notice Marks an investment of a failed campaign refunded (the money goes back off chain).
    /// @dev Only the platform. Checks, in order: the caller is the platform (NotPlatform), the
    ///      campaign failed (CampaignNotFailed), the investment exists (InvestmentNotFound) and is
    ///      not refunded yet (AlreadyRefunded).
    /// @param investmentReference The platform's id of the investment.
    function refund(bytes32 investmentReference) external {
        _requirePlatform();
        Status current = status;
        if (current != Status.Failed) revert CampaignNotFailed(current);
        Investment storage record = _investments[investmentReference];
        address investor = record.investor;
        if (investor == address(0)) revert InvestmentNotFound(investmentReference);
        if (record.refunded) revert AlreadyRefunded(investmentReference);
        record.refunded = true;
        ++refundedCount;
        emit InvestmentRefunded(investor, record.amount, investmentReference);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice Whether the campaign takes investments now: not finalised and before its deadline.
    ///         Derived from the time when read.
    function isOpen() external view returns (bool) {
        return status == Status.Open && block.timestamp < deadline;
    }

    /// @notice Whether `account` is the platform (holds the factory's PLATFORM_ROLE) now.
    /// @param account Any address.
    function isPlatform(address account) external view returns (bool) {
        return factory.isPlatform(account);
    }

    /// @notice The investment recorded under `investmentReference`; all zero if there is none.
    /// @param investmentReference The platform's id of the investment.
    function investment(bytes32 investmentReference) external view returns (Investment memory) {
        return _investments[investmentReference];
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    function _requirePlatform() private view {
        if (!factory.isPlatform(msg.sender)) revert NotPlatform(msg.sender);
    }
}
