// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice What a {TestChild} asks of the contract deploying it.
interface ITestChildFactory {
    /// @notice The account whose {TestFactory.create} call is deploying a child right now.
    function pendingCreator() external view returns (address);
}

/// @title TestFactory
/// @notice Test-only factory for the engine's factory sources: the indexer learns each child's
///         address from {ChildCreated} and from then on follows that child's events ({TestChild.Born},
///         {TestChild.Pinged}). Children are deployed with CREATE2, so a test knows a child's address
///         ({predict}) before the creation is mined. Never deployed by `ledgersync deploy`.
/// @dev A child's address depends only on this factory and the salt, not on the creator: the
///      creator is not a constructor argument (that would change the init code) but is read back by
///      the child's constructor through {pendingCreator}.
contract TestFactory is ITestChildFactory {
    /// @notice {create} was called with a salt already used: the child at that address exists.
    /// @param child The existing child.
    error ChildExists(address child);

    /// @notice A child was deployed. Its {TestChild.Born} comes earlier in the same receipt.
    /// @param child The new child's address (equal to {predict} of `salt`).
    /// @param creator The account that called {create}.
    /// @param salt The CREATE2 salt.
    event ChildCreated(address indexed child, address indexed creator, bytes32 salt);

    /// @dev Set only while {create} runs, so the child's constructor can read it.
    address private _pendingCreator;

    /// @notice Deploys a {TestChild} at {predict}(`salt`) and emits {ChildCreated}.
    /// @dev Reverts with ChildExists if that salt was used before.
    /// @param salt The CREATE2 salt; one child per salt.
    /// @return child The new child's address.
    function create(bytes32 salt) external returns (address child) {
        child = predict(salt);
        if (child.code.length != 0) revert ChildExists(child);
        _pendingCreator = msg.sender;
        new TestChild{salt: salt}();
        delete _pendingCreator;
        emit ChildCreated(child, msg.sender, salt);
    }

    /// @notice The address {create} deploys the child for `salt` at, whether or not it exists yet.
    /// @param salt The CREATE2 salt.
    function predict(bytes32 salt) public view returns (address) {
        bytes32 hash = keccak256(
            abi.encodePacked(bytes1(0xff), address(this), salt, keccak256(type(TestChild).creationCode))
        );
        return address(uint160(uint256(hash)));
    }

    /// @inheritdoc ITestChildFactory
    /// @dev The zero address outside {create}.
    function pendingCreator() external view returns (address) {
        return _pendingCreator;
    }
}

/// @title TestChild
/// @notice Test-only child of {TestFactory}: a contract the indexer only finds through its factory.
///         It announces itself with {Born} and then emits {Pinged} on demand, counting the pings.
/// @dev Deployable only by a contract implementing {ITestChildFactory}; deployed from an account
///      its constructor reverts.
contract TestChild {
    /// @notice This child was deployed.
    /// @param factory The factory that deployed it.
    /// @param creator The account that called the factory's {TestFactory.create}.
    event Born(address indexed factory, address indexed creator);

    /// @notice {ping} was called.
    /// @param n The number passed to {ping}.
    /// @param by The caller.
    event Pinged(uint256 n, address indexed by);

    /// @notice The factory that deployed this child.
    address public immutable factory;
    /// @notice The account that asked the factory for this child.
    address public immutable creator;
    /// @notice How many times {ping} was called.
    uint256 public pings;

    constructor() {
        address creator_ = ITestChildFactory(msg.sender).pendingCreator();
        factory = msg.sender;
        creator = creator_;
        emit Born(msg.sender, creator_);
    }

    /// @notice Counts a ping and emits {Pinged}.
    /// @param n Any number, echoed in the event.
    function ping(uint256 n) external {
        ++pings;
        emit Pinged(n, msg.sender);
    }
}
