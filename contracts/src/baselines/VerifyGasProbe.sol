// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DeviceRegistry} from "../DeviceRegistry.sol";

/// @title VerifyGasProbe
/// @notice Benchmark helper: the gas DeviceRegistry.verify costs a calling contract, which is
/// how relying contracts pay for it. A transaction's estimate also counts the 21,000 base
/// and the calldata, which say nothing about verify itself.
contract VerifyGasProbe {
    /// @notice Calls verify and measures the gas it used.
    /// @param registry The registry to call.
    /// @param batchId The batch id.
    /// @param device The device's address.
    /// @param imsiCommitment The SIM's IMSI commitment.
    /// @param proof The Merkle proof.
    /// @return valid What verify answered.
    /// @return gasUsed Gas consumed by the call to verify, including the call itself.
    function measure(
        DeviceRegistry registry,
        bytes32 batchId,
        address device,
        bytes32 imsiCommitment,
        bytes32[] calldata proof
    ) external view returns (bool valid, uint256 gasUsed) {
        uint256 before = gasleft();
        valid = registry.verify(batchId, device, imsiCommitment, proof);
        gasUsed = before - gasleft();
    }
}
