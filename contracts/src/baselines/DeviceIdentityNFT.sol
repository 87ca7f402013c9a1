// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title DeviceIdentityNFT
/// @notice Benchmark baseline: a per-device ERC-721 identity, as IoTeX ioID mints one token
/// per registered device. The token id is the device address, so a device has one identity.
contract DeviceIdentityNFT is ERC721, AccessControl {
    /// @notice Role allowed to mint identities.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice Creates the collection; `registrar` may mint.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE.
    /// @param registrar Initial holder of REGISTRAR_ROLE.
    constructor(address admin, address registrar) ERC721("Device Identity", "DEVID") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, registrar);
    }

    /// @notice Mints the identity token of a device to its owner.
    /// @param owner Who holds the identity.
    /// @param device The device's address, used as the token id.
    function mint(address owner, address device) external onlyRole(REGISTRAR_ROLE) {
        _mint(owner, uint256(uint160(device)));
    }

    /// @notice ERC-165 support of both parents.
    /// @param interfaceId The interface queried.
    /// @return Whether it is supported.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
