// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice Test-only ERC-20 that anyone may mint: the engine's tests follow its {Transfer}
///         events to or from the addresses of an address set, as an app follows its users'
///         stablecoin payments. Never deployed by `ledgersync deploy`.
contract TestToken is ERC20 {
    constructor() ERC20("Test Token", "TT") {}

    /// @notice Mints `amount` to `to` (a {Transfer} from the zero address).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
