// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Confío P2P trade: cUSD held in escrow while a buyer pays the seller off chain
/// @notice A seller selling cUSD for cash or a bank transfer locks the cUSD here under the app's
///         trade id; the buyer pays off chain and may say so ({markPaid}); the seller, seeing the
///         payment, releases the cUSD to the buyer. If they disagree, either one disputes and an
///         arbitrator sends the cUSD to one of them.
/// @dev The rules, in full (no clock: every step is someone's act):
///      - {createEscrow}: anyone, becoming the seller; pulls `amount` from the seller (allowance).
///        A trade id is used once, ever: a retried creation reverts with {EscrowExists}.
///      - {release}: the seller, while Open; pays the buyer. Status Released.
///      - {cancel}: while Open, the buyer at any time (backing out), the seller only until the buyer
///        has marked the trade paid ({BuyerMarkedPaid}); refunds the seller. Status Cancelled.
///        So a seller cannot take the cUSD back once the buyer says it paid; a buyer who says so
///        falsely is answered by a dispute.
///      - {markPaid}: the buyer, while Open, once. It moves no money.
///      - {dispute}: the buyer or the seller, while Open; freezes the escrow. Status Disputed.
///      - {resolve}: ARBITRATOR_ROLE, while Disputed; releases to the buyer or refunds the seller,
///        emitting {EscrowReleased} or {EscrowCancelled} as an undisputed trade would, then
///        {DisputeResolved}.
///      Released and Cancelled are final. The checks of each function come in a fixed order: the
///      escrow exists ({EscrowNotFound}), then the caller ({NotSeller}, {NotBuyer}, {NotParty}),
///      then the status, so a retried release or cancel learns from {EscrowNotOpen} that its
///      first attempt landed.
///
///      Every function that moves the token changes the status first and transfers last
///      (checks-effects-interactions): a token calling back into this contract finds the escrow
///      no longer Open and cannot pay it out twice. The token is the app's own cUSD, which makes no
///      callbacks, so this is defence in depth. The escrowed amount is what was asked for: a token
///      taking a fee on transfer is not supported (cUSD takes none).
///
///      The token's {Transfer} comes before this contract's event in each transaction.
contract P2PTrade is AccessControl {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------------------------------------
    // Roles and types
    // ---------------------------------------------------------------------------------------------

    /// @notice Resolves disputes.
    bytes32 public constant ARBITRATOR_ROLE = keccak256("ARBITRATOR_ROLE");

    /// @notice Where an escrow stands. `None`: no escrow has this trade id.
    enum Status {
        None,
        Open,
        Released,
        Cancelled,
        Disputed
    }

    /// @notice One escrow, as returned by {escrow}.
    /// @param seller Who locked the cUSD; refunded on cancellation.
    /// @param createdAt Block timestamp of the creation.
    /// @param status Where it stands.
    /// @param buyer Who receives the cUSD on release.
    /// @param paidAt Block timestamp at which the buyer marked it paid; zero if it did not.
    /// @param amount The cUSD held.
    struct Escrow {
        address seller;
        uint64 createdAt;
        Status status;
        address buyer;
        uint64 paidAt;
        uint256 amount;
    }

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor was given the zero address as token.
    error InvalidToken();
    /// @notice The constructor was given the zero address as admin.
    error InvalidAdmin();
    /// @notice The constructor was given the zero address as arbitrator.
    error InvalidArbitrator();
    /// @notice The trade id is zero.
    error InvalidTradeId();
    /// @notice The buyer is the zero address, the seller, or this contract.
    error InvalidBuyer(address buyer);
    /// @notice The amount is zero.
    error InvalidAmount();
    /// @notice An escrow with this trade id was created already (whatever became of it).
    error EscrowExists(bytes32 tradeId);
    /// @notice No escrow has this trade id.
    error EscrowNotFound(bytes32 tradeId);
    /// @notice Only the escrow's seller may do this.
    error NotSeller(bytes32 tradeId, address caller);
    /// @notice Only the escrow's buyer may do this.
    error NotBuyer(bytes32 tradeId, address caller);
    /// @notice Only the escrow's seller or buyer may do this.
    error NotParty(bytes32 tradeId, address caller);
    /// @notice The escrow is not Open; its status is `status`.
    error EscrowNotOpen(bytes32 tradeId, Status status);
    /// @notice The escrow is not Disputed; its status is `status`.
    error EscrowNotDisputed(bytes32 tradeId, Status status);
    /// @notice The buyer marked the trade paid (at `paidAt`): the seller can no longer cancel it.
    error BuyerMarkedPaid(bytes32 tradeId, uint64 paidAt);
    /// @notice The buyer marked the trade paid already, at `paidAt`.
    error AlreadyMarkedPaid(bytes32 tradeId, uint64 paidAt);

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice The seller locked `amount` for the buyer.
    event EscrowCreated(bytes32 indexed tradeId, address indexed seller, address indexed buyer, uint256 amount);
    /// @notice The buyer said it paid the seller off chain.
    event EscrowMarkedPaid(bytes32 indexed tradeId, address indexed buyer);
    /// @notice The escrow paid `amount` to the buyer (released by the seller or by an arbitrator).
    event EscrowReleased(bytes32 indexed tradeId, address indexed seller, address indexed buyer, uint256 amount);
    /// @notice The escrow refunded `amount` to the seller (cancelled by a party or by an arbitrator).
    event EscrowCancelled(bytes32 indexed tradeId, address indexed seller, address indexed buyer, uint256 amount);
    /// @notice `by` (the buyer or the seller) disputed the trade, for `reason` (the app's id or hash
    ///         of its reason).
    event EscrowDisputed(bytes32 indexed tradeId, address indexed by, bytes32 reason);
    /// @notice `arbitrator` resolved the dispute: to the buyer (released) or not (refunded).
    event DisputeResolved(bytes32 indexed tradeId, address indexed arbitrator, bool toBuyer);

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    /// @notice The token held in escrow (cUSD).
    IERC20 public immutable token;

    mapping(bytes32 tradeId => Escrow) private _escrows;

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @param token_ The token (cUSD; non-zero).
    /// @param admin Holds DEFAULT_ADMIN_ROLE: manages roles (non-zero).
    /// @param arbitrator Holds ARBITRATOR_ROLE first (non-zero).
    constructor(IERC20 token_, address admin, address arbitrator) {
        if (address(token_) == address(0)) revert InvalidToken();
        if (admin == address(0)) revert InvalidAdmin();
        if (arbitrator == address(0)) revert InvalidArbitrator();
        token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ARBITRATOR_ROLE, arbitrator);
    }

    // ---------------------------------------------------------------------------------------------
    // The trade
    // ---------------------------------------------------------------------------------------------

    /// @notice Locks `amount` of the caller's cUSD for `buyer` under `tradeId`. The caller is the
    ///         seller and must have approved this contract for `amount`.
    /// @dev Checks: InvalidTradeId, EscrowExists (before the other arguments, so a retry learns
    ///      that its first attempt landed), InvalidBuyer, InvalidAmount; a short balance or
    ///      allowance reverts in the token.
    /// @param tradeId The app's id of the trade (non-zero, used once).
    /// @param buyer Who will receive the cUSD.
    /// @param amount How much.
    function createEscrow(bytes32 tradeId, address buyer, uint256 amount) external {
        if (tradeId == bytes32(0)) revert InvalidTradeId();
        if (_escrows[tradeId].status != Status.None) revert EscrowExists(tradeId);
        if (buyer == address(0) || buyer == msg.sender || buyer == address(this)) revert InvalidBuyer(buyer);
        if (amount == 0) revert InvalidAmount();

        _escrows[tradeId] = Escrow({
            seller: msg.sender,
            createdAt: uint64(block.timestamp),
            status: Status.Open,
            buyer: buyer,
            paidAt: 0,
            amount: amount
        });
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit EscrowCreated(tradeId, msg.sender, buyer, amount);
    }

    /// @notice The buyer says it paid: from now on the seller cannot cancel. Emits {EscrowMarkedPaid}.
    /// @dev EscrowNotFound, NotBuyer, EscrowNotOpen, AlreadyMarkedPaid.
    /// @param tradeId The trade.
    function markPaid(bytes32 tradeId) external {
        Escrow storage e = _existing(tradeId);
        if (msg.sender != e.buyer) revert NotBuyer(tradeId, msg.sender);
        _requireOpen(tradeId, e);
        if (e.paidAt != 0) revert AlreadyMarkedPaid(tradeId, e.paidAt);
        e.paidAt = uint64(block.timestamp);
        emit EscrowMarkedPaid(tradeId, msg.sender);
    }

    /// @notice The seller releases the cUSD to the buyer. Emits {EscrowReleased}.
    /// @dev EscrowNotFound, NotSeller, EscrowNotOpen (a disputed escrow is the arbitrator's).
    /// @param tradeId The trade.
    function release(bytes32 tradeId) external {
        Escrow storage e = _existing(tradeId);
        if (msg.sender != e.seller) revert NotSeller(tradeId, msg.sender);
        _requireOpen(tradeId, e);
        _release(tradeId, e);
    }

    /// @notice Refunds the seller: by the buyer at any time while Open, by the seller while Open
    ///         and not marked paid. Emits {EscrowCancelled}.
    /// @dev EscrowNotFound, NotParty, EscrowNotOpen, BuyerMarkedPaid (the seller only).
    /// @param tradeId The trade.
    function cancel(bytes32 tradeId) external {
        Escrow storage e = _existing(tradeId);
        if (msg.sender != e.seller && msg.sender != e.buyer) revert NotParty(tradeId, msg.sender);
        _requireOpen(tradeId, e);
        if (msg.sender == e.seller && e.paidAt != 0) revert BuyerMarkedPaid(tradeId, e.paidAt);
        _cancel(tradeId, e);
    }

    /// @notice The buyer or the seller disputes the trade, freezing it until an arbitrator
    ///         resolves it. Emits {EscrowDisputed}.
    /// @dev EscrowNotFound, NotParty, EscrowNotOpen (a dispute is raised once).
    /// @param tradeId The trade.
    /// @param reason The app's id or hash of the reason.
    function dispute(bytes32 tradeId, bytes32 reason) external {
        Escrow storage e = _existing(tradeId);
        if (msg.sender != e.seller && msg.sender != e.buyer) revert NotParty(tradeId, msg.sender);
        _requireOpen(tradeId, e);
        e.status = Status.Disputed;
        emit EscrowDisputed(tradeId, msg.sender, reason);
    }

    /// @notice An arbitrator resolves a dispute: `toBuyer` releases the cUSD to the buyer, otherwise
    ///         it is refunded to the seller. Emits {EscrowReleased} or {EscrowCancelled}, then
    ///         {DisputeResolved}.
    /// @dev Only ARBITRATOR_ROLE; EscrowNotFound, EscrowNotDisputed.
    /// @param tradeId The trade.
    /// @param toBuyer True to release to the buyer, false to refund the seller.
    function resolve(bytes32 tradeId, bool toBuyer) external onlyRole(ARBITRATOR_ROLE) {
        Escrow storage e = _existing(tradeId);
        if (e.status != Status.Disputed) revert EscrowNotDisputed(tradeId, e.status);
        if (toBuyer) _release(tradeId, e);
        else _cancel(tradeId, e);
        emit DisputeResolved(tradeId, msg.sender, toBuyer);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice The escrow of `tradeId`; all zero (status None) if there is none.
    /// @param tradeId The trade.
    function escrow(bytes32 tradeId) external view returns (Escrow memory) {
        return _escrows[tradeId];
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    function _existing(bytes32 tradeId) private view returns (Escrow storage e) {
        e = _escrows[tradeId];
        if (e.status == Status.None) revert EscrowNotFound(tradeId);
    }

    function _requireOpen(bytes32 tradeId, Escrow storage e) private view {
        if (e.status != Status.Open) revert EscrowNotOpen(tradeId, e.status);
    }

    /// @dev Status first, transfer last (see the contract's notes on callbacks).
    function _release(bytes32 tradeId, Escrow storage e) private {
        e.status = Status.Released;
        (address seller, address buyer, uint256 amount) = (e.seller, e.buyer, e.amount);
        token.safeTransfer(buyer, amount);
        emit EscrowReleased(tradeId, seller, buyer, amount);
    }

    /// @dev Status first, transfer last (see the contract's notes on callbacks).
    function _cancel(bytes32 tradeId, Escrow storage e) private {
        e.status = Status.Cancelled;
        (address seller, address buyer, uint256 amount) = (e.seller, e.buyer, e.amount);
        token.safeTransfer(seller, amount);
        emit EscrowCancelled(tradeId, seller, buyer, amount);
    }
}
