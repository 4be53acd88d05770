// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Confío Pay: a payment to a merchant in cUSD, with a fee
/// @notice The payer approves this contract and calls {pay}: the merchant receives the amount less
///         the fee, the fee collector the fee, and {PaymentMade} names the payment's reference,
///         which the app chose (an invoice or order id) and which can be paid only once.
/// @dev Pay never holds money: both legs go straight from the payer (`transferFrom` on the
///      token), so a payment is two {Transfer}s of the token (merchant, then fee collector; no
///      second one if the fee is zero) followed by {PaymentMade}.
///
///      Fee: `fee = amount * feeBps / 10_000`, rounded down (the payer never pays more than the
///      rate; an amount too small to carry one unit of fee carries none). The admin sets the rate,
///      at most {MAX_FEE_BPS} (10%), and the collector; a change applies to the next payment.
///
///      Once only: a reference is marked used before the token moves (checks-effects-interactions),
///      so a retried payment reverts with {ReferenceUsed} and a token that called back into {pay}
///      with the same reference could not pay twice. The token is the app's own cUSD (no transfer
///      hooks), so no callback happens in practice; the ordering is there for any token.
///
///      The `reference` of the issue is named `paymentReference`: `reference` is a reserved word
///      in Solidity.
contract Pay is AccessControl {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------------------------------------
    // Constants
    // ---------------------------------------------------------------------------------------------

    /// @notice The highest fee rate the admin may set: 1,000 basis points (10%).
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @notice Basis points in a whole.
    uint16 public constant BPS = 10_000;

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor was given the zero address as token.
    error InvalidToken();
    /// @notice The constructor was given the zero address as admin.
    error InvalidAdmin();
    /// @notice The fee collector is the zero address.
    error InvalidFeeCollector();
    /// @notice The fee rate is above {MAX_FEE_BPS}.
    error FeeTooHigh(uint16 feeBps, uint16 maxFeeBps);
    /// @notice The merchant is the zero address or this contract.
    error InvalidMerchant(address merchant);
    /// @notice The amount is zero.
    error InvalidAmount();
    /// @notice The payment reference is zero.
    error InvalidReference();
    /// @notice A payment with this reference was made already (by `payer`).
    error ReferenceUsed(bytes32 paymentReference, address payer);

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice A payment was made; the token's {Transfer}s of it come just before.
    /// @param payer Who paid (the caller).
    /// @param merchant Who was paid; received `amount - fee`.
    /// @param amount The whole amount taken from the payer.
    /// @param fee The part of `amount` sent to the fee collector.
    /// @param paymentReference The app's id of the payment.
    event PaymentMade(
        address indexed payer, address indexed merchant, uint256 amount, uint256 fee, bytes32 indexed paymentReference
    );

    /// @notice The fee rate changed from `oldFeeBps` to `newFeeBps`.
    event FeeChanged(uint16 oldFeeBps, uint16 newFeeBps);

    /// @notice The fee collector changed.
    event FeeCollectorChanged(address indexed oldCollector, address indexed newCollector);

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    /// @notice The token payments are made in (cUSD).
    IERC20 public immutable token;
    /// @notice Who receives the fees.
    address public feeCollector;
    /// @notice The fee rate, in basis points of the amount.
    uint16 public feeBps;
    /// @notice Who paid with each reference; zero if it is unused.
    mapping(bytes32 paymentReference => address payer) public payerOf;

    // ---------------------------------------------------------------------------------------------
    // Construction and administration
    // ---------------------------------------------------------------------------------------------

    /// @param token_ The token (cUSD; non-zero).
    /// @param admin Holds DEFAULT_ADMIN_ROLE: sets the fee and the collector, manages roles (non-zero).
    /// @param feeCollector_ Receives the fees (non-zero).
    /// @param feeBps_ The initial fee rate, at most {MAX_FEE_BPS}.
    constructor(IERC20 token_, address admin, address feeCollector_, uint16 feeBps_) {
        if (address(token_) == address(0)) revert InvalidToken();
        if (admin == address(0)) revert InvalidAdmin();
        if (feeCollector_ == address(0)) revert InvalidFeeCollector();
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        feeCollector = feeCollector_;
        feeBps = feeBps_;
    }

    /// @notice Sets the fee rate for the payments that follow. Emits {FeeChanged}.
    /// @dev Only the admin; FeeTooHigh above {MAX_FEE_BPS}.
    /// @param newFeeBps The new rate, in basis points.
    function setFee(uint16 newFeeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert FeeTooHigh(newFeeBps, MAX_FEE_BPS);
        emit FeeChanged(feeBps, newFeeBps);
        feeBps = newFeeBps;
    }

    /// @notice Sets who receives the fees. Emits {FeeCollectorChanged}.
    /// @dev Only the admin; InvalidFeeCollector for the zero address.
    /// @param newCollector The new collector.
    function setFeeCollector(address newCollector) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newCollector == address(0)) revert InvalidFeeCollector();
        emit FeeCollectorChanged(feeCollector, newCollector);
        feeCollector = newCollector;
    }

    // ---------------------------------------------------------------------------------------------
    // Paying
    // ---------------------------------------------------------------------------------------------

    /// @notice Pays `merchant` `amount` of the token from the caller, less the fee, which goes to
    ///         the fee collector. The caller must have approved this contract for `amount`.
    /// @dev Checks, in order: InvalidReference (zero), ReferenceUsed (before anything else about
    ///      the payment, so a retry learns that its first attempt landed), InvalidMerchant (zero or
    ///      this contract, where the money would be stuck), InvalidAmount (zero). A short balance or
    ///      allowance reverts in the token (ERC20InsufficientBalance, ERC20InsufficientAllowance).
    /// @param merchant Who is paid.
    /// @param amount The whole amount taken from the caller.
    /// @param paymentReference The app's id of the payment (non-zero, used once).
    /// @return fee The fee taken out of `amount`.
    function pay(address merchant, uint256 amount, bytes32 paymentReference) external returns (uint256 fee) {
        if (paymentReference == bytes32(0)) revert InvalidReference();
        address earlier = payerOf[paymentReference];
        if (earlier != address(0)) revert ReferenceUsed(paymentReference, earlier);
        if (merchant == address(0) || merchant == address(this)) revert InvalidMerchant(merchant);
        if (amount == 0) revert InvalidAmount();

        fee = quoteFee(amount);
        payerOf[paymentReference] = msg.sender;

        token.safeTransferFrom(msg.sender, merchant, amount - fee);
        if (fee != 0) token.safeTransferFrom(msg.sender, feeCollector, fee);
        emit PaymentMade(msg.sender, merchant, amount, fee, paymentReference);
    }

    /// @notice The fee {pay} would take out of `amount` at the current rate (rounded down).
    /// @param amount An amount.
    function quoteFee(uint256 amount) public view returns (uint256) {
        return amount * feeBps / BPS;
    }
}
