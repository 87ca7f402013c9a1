// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title PlainDeviceRegistry
/// @notice Benchmark baseline: the usual per-device registry, one storage write per device,
/// which DeviceRegistry's one root per batch is measured against.
contract PlainDeviceRegistry is AccessControl {
    /// @notice Role allowed to register devices.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice The IMSI commitment each device was registered with (zero if none).
    mapping(address device => bytes32 imsiCommitment) public commitmentOf;

    /// @notice A device was registered.
    event DeviceRegistered(address indexed device, bytes32 imsiCommitment);

    /// @notice The two arrays of registerMany differ in length.
    error LengthMismatch(uint256 devices, uint256 commitments);
    /// @notice The device was registered before.
    error AlreadyRegistered(address device);

    /// @notice Creates the registry; `registrar` may register devices.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE.
    /// @param registrar Initial holder of REGISTRAR_ROLE.
    constructor(address admin, address registrar) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, registrar);
    }

    /// @notice Registers one device.
    /// @param device The device's address.
    /// @param imsiCommitment Its SIM's IMSI commitment.
    function register(address device, bytes32 imsiCommitment) external onlyRole(REGISTRAR_ROLE) {
        _register(device, imsiCommitment);
    }

    /// @notice Registers many devices in one transaction.
    /// @param devices The devices' addresses.
    /// @param commitments Their SIMs' IMSI commitments, in the same order.
    function registerMany(address[] calldata devices, bytes32[] calldata commitments)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        if (devices.length != commitments.length) revert LengthMismatch(devices.length, commitments.length);
        for (uint256 i = 0; i < devices.length; i++) {
            _register(devices[i], commitments[i]);
        }
    }

    function _register(address device, bytes32 imsiCommitment) private {
        if (commitmentOf[device] != bytes32(0)) revert AlreadyRegistered(device);
        commitmentOf[device] = imsiCommitment;
        emit DeviceRegistered(device, imsiCommitment);
    }
}
