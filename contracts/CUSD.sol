// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Confío Dollar (cUSD), the EVM twin of Confío's `cusd.move`
/// @notice An ERC-20 with 6 decimals (as USDC and the Sui coin). Holders move it freely; accounts
///         with MINTER_ROLE mint it and burn it; the admin may pause every movement in an emergency.
/// @dev OpenZeppelin 5's `ERC20` and `ERC20Pausable`, unchanged: they import neither `Strings` nor
///      `Bytes`, so they compile for the `paris` EVM (no MCOPY) that pre-Shanghai chains need.
///
///      Events: a plain transfer, a mint and a burn each emit only the standard {Transfer} (from or
///      to the zero address for mints and burns), as `cusd.move`'s plain transfers emit no event of
///      the app's own: the app follows cUSD through {Transfer} alone. Approvals emit {Approval}.
///
///      Roles: the admin (DEFAULT_ADMIN_ROLE) manages roles and pauses; MINTER_ROLE mints, burns its
///      own balance ({burn}) and burns a holder's balance within the holder's allowance
///      ({burnFrom}, one step for a withdrawal the holder approved). The minter gets no power over
///      balances it was not approved for.
///
///      Pausing costs every movement one storage read (`whenNotPaused` in `_update`) and stops
///      transfers, mints and burns alike; approvals still work while paused.
contract CUSD is ERC20Pausable, AccessControl {
    // ---------------------------------------------------------------------------------------------
    // Roles
    // ---------------------------------------------------------------------------------------------

    /// @notice Mints and burns cUSD.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor was given the zero address as admin.
    error InvalidAdmin();
    /// @notice The constructor was given the zero address as minter.
    error InvalidMinter();

    // ---------------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------------

    /// @param admin Holds DEFAULT_ADMIN_ROLE: manages roles, pauses and unpauses (non-zero).
    /// @param minter Holds MINTER_ROLE first (non-zero); the admin may grant it to others.
    constructor(address admin, address minter) ERC20("Confio Dollar", "cUSD") {
        if (admin == address(0)) revert InvalidAdmin();
        if (minter == address(0)) revert InvalidMinter();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, minter);
    }

    /// @notice 6, as the Sui coin: amounts are the same integers on both chains.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    // ---------------------------------------------------------------------------------------------
    // Minting and burning
    // ---------------------------------------------------------------------------------------------

    /// @notice Mints `amount` to `to`: a {Transfer} from the zero address.
    /// @dev Only MINTER_ROLE. The zero address as `to` reverts with ERC20InvalidReceiver.
    /// @param to The recipient.
    /// @param amount The amount, in units of 10^-6 cUSD.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice Burns `amount` of the caller's own balance: a {Transfer} to the zero address.
    /// @dev Only MINTER_ROLE (a redemption: the holder sent its cUSD to the minter first).
    /// @param amount The amount to burn.
    function burn(uint256 amount) external onlyRole(MINTER_ROLE) {
        _burn(msg.sender, amount);
    }

    /// @notice Burns `amount` of `account`'s balance, spending the allowance `account` gave the
    ///         caller: a {Transfer} to the zero address.
    /// @dev Only MINTER_ROLE, and only within the allowance (ERC20InsufficientAllowance), as a
    ///      withdrawal the holder approved; an unlimited allowance (max uint256) is not spent.
    /// @param account The holder whose cUSD is burnt.
    /// @param amount The amount to burn.
    function burnFrom(address account, uint256 amount) external onlyRole(MINTER_ROLE) {
        _spendAllowance(account, msg.sender, amount);
        _burn(account, amount);
    }

    // ---------------------------------------------------------------------------------------------
    // Pausing
    // ---------------------------------------------------------------------------------------------

    /// @notice Stops every transfer, mint and burn until {unpause}. Emits {Paused}.
    /// @dev Only the admin; EnforcedPause if paused already.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Lets movements resume. Emits {Unpaused}.
    /// @dev Only the admin; ExpectedPause if not paused.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }
}
