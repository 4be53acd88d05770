// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestReentrantToken
/// @notice Test-only ERC-20 that calls back into another contract in the middle of a transfer, to
///         show that {Pay} and {P2PTrade} change their state before they move the token (a second
///         payout attempted from inside the first finds nothing left to pay). cUSD makes no such
///         callback; this token exists only for that test. Never deployed by `ledgersync deploy`.
/// @dev Anyone mints. {execute} makes the token itself call a contract, so the token can be a
///      payer or a seller. {arm} sets one callback, made (and disarmed) at the next transfer that
///      is not a mint, after the balances moved; its outcome is kept in {callbackOk} and
///      {callbackResult} instead of bubbling up, so the outer call completes and can be checked.
contract TestReentrantToken is ERC20 {
    address private _target;
    bytes private _data;

    /// @notice Whether the last callback succeeded.
    bool public callbackOk;
    /// @notice What the last callback returned, or its revert data.
    bytes public callbackResult;
    /// @notice Number of callbacks made.
    uint256 public callbacks;

    constructor() ERC20("Reentrant Token", "RT") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The token calls `target` with `data` (as the caller), bubbling up a revert.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }

    /// @notice At the next transfer that is not a mint, call `target` with `data` once.
    function arm(address target, bytes calldata data) external {
        _target = target;
        _data = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = _target;
        if (target == address(0) || from == address(0)) return;
        _target = address(0);
        (callbackOk, callbackResult) = target.call(_data);
        ++callbacks;
    }
}
