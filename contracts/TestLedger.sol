// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title TestLedger
/// @notice Test-only key/value ledger, the neutral app the engine's own tests sync against (indexer,
///         relayer, reverts, legacy-gas chains). Every write emits one {Written}, so a test can drive
///         the indexer with one event ({write}), many events in one transaction ({writeMany}), a call
///         that succeeds once and reverts when repeated ({writeOnce}), or a call that always reverts
///         with a decodable custom error ({refuse}). No access control: any account may write any key.
///         Never deployed by `ledgersync deploy`.
contract TestLedger {
    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice {writeMany} was given arrays of different lengths.
    /// @param keys Length of `keys`.
    /// @param values Length of `values`.
    error LengthMismatch(uint256 keys, uint256 values);

    /// @notice {writeOnce} was called for a key that was already written (by any write function).
    /// @param key The key.
    error AlreadyWritten(bytes32 key);

    /// @notice Raised by {refuse}, always, with the caller's reason.
    /// @param reason The string passed to {refuse}.
    error Refused(string reason);

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice A value was stored under a key (by {write}, {writeMany} or {writeOnce}).
    /// @param key The key.
    /// @param value The value now stored.
    /// @param writer The account that called the write function.
    event Written(bytes32 indexed key, uint256 value, address indexed writer);

    // ---------------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------------

    mapping(bytes32 key => uint256 value) private _values;
    /// @dev Kept apart from `_values` so that writing 0 still counts as written for {writeOnce}.
    mapping(bytes32 key => bool written) private _written;

    // ---------------------------------------------------------------------------------------------
    // Writes
    // ---------------------------------------------------------------------------------------------

    /// @notice Stores `value` under `key` (overwriting) and emits {Written}: one event per transaction.
    /// @param key The key.
    /// @param value The value.
    function write(bytes32 key, uint256 value) external {
        _write(key, value);
    }

    /// @notice Stores every pair in order and emits one {Written} per pair: many events in one
    ///         transaction (and, for a repeated key, the last value wins). Empty arrays are a no-op.
    /// @dev Reverts with LengthMismatch if the arrays differ in length.
    /// @param keys The keys.
    /// @param values The values, one per key.
    function writeMany(bytes32[] calldata keys, uint256[] calldata values) external {
        uint256 n = keys.length;
        if (n != values.length) revert LengthMismatch(n, values.length);
        for (uint256 i = 0; i < n; ++i) {
            _write(keys[i], values[i]);
        }
    }

    /// @notice Like {write}, but only for a key never written before: the first transaction
    ///         succeeds and any repeat reverts, so a test can tell whether a request was sent once
    ///         or twice (exactly-once delivery).
    /// @dev Reverts with AlreadyWritten if {write}, {writeMany} or {writeOnce} already wrote `key`.
    /// @param key The key.
    /// @param value The value.
    function writeOnce(bytes32 key, uint256 value) external {
        if (_written[key]) revert AlreadyWritten(key);
        _write(key, value);
    }

    /// @notice Always reverts with Refused(reason), for tests that decode revert data, whether from
    ///         a call, a gas estimate or a transaction mined as reverted.
    /// @dev `payable` rather than `pure`: typed clients (viem's writeContract) only send transactions
    ///      to non-view functions, and solc asks for `pure` on a nonpayable function that only
    ///      reverts. Any value sent is returned by the revert.
    /// @param reason Returned in the revert data.
    function refuse(string calldata reason) external payable {
        revert Refused(reason);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice The value last written under `key`, or 0 if none was.
    /// @param key The key.
    function read(bytes32 key) external view returns (uint256) {
        return _values[key];
    }

    /// @notice Whether `key` was ever written (also true after writing 0); {writeOnce} reverts if so.
    /// @param key The key.
    function isWritten(bytes32 key) external view returns (bool) {
        return _written[key];
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    function _write(bytes32 key, uint256 value) private {
        _values[key] = value;
        _written[key] = true;
        emit Written(key, value, msg.sender);
    }
}
