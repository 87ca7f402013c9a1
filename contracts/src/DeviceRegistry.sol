// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title DeviceRegistry
/// @notice Binds IoT SIM cards to the device keys their cards generated, one Merkle root per
/// provisioning batch, so a batch of millions of SIMs costs one transaction.
/// @dev A leaf is OpenZeppelin's standard double hash
/// `keccak256(bytes.concat(keccak256(abi.encode(device, imsiCommitment))))` with
/// `imsiCommitment = keccak256(abi.encode(salt, imsi))`: the IMSI never appears on chain.
/// Devices are not stored one by one; only a status that differs from Active is.
/// A batch's id is the backend's batch reference it was anchored under: keyed by it, a batch
/// takes two storage slots and no counter or lookup table, and a resend of the same anchoring
/// finds the batch it already created.
contract DeviceRegistry is AccessControl {
    /// @notice Role of the operators' provisioning signers.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice Status of a device. Active is the default, so only exceptions cost storage.
    enum DeviceStatus {
        Active,
        Suspended,
        Revoked
    }

    /// @notice One anchored provisioning batch. Packed into two storage slots.
    struct Batch {
        bytes32 root;
        address operator;
        uint32 leafCount;
        uint40 anchoredAt;
        bool revoked;
    }

    mapping(bytes32 batchId => Batch) private _batches;
    mapping(address device => DeviceStatus) private _status;

    /// @notice A provisioning batch was anchored.
    event BatchAnchored(bytes32 indexed batchId, address indexed operator, bytes32 root, uint32 leafCount);

    /// @notice A whole batch was revoked: none of its proofs verifies any more.
    event BatchRevoked(bytes32 indexed batchId, address indexed by);

    /// @notice A device's status changed.
    event DeviceStatusChanged(
        address indexed device, DeviceStatus previous, DeviceStatus status, address indexed by
    );

    /// @notice The root is zero: no tree has that root.
    error EmptyRoot();
    /// @notice A batch must hold at least one leaf.
    error EmptyBatch();
    /// @notice The batch reference is zero: it could not be told from "no batch".
    error InvalidBatchRef();
    /// @notice The batch reference was anchored before with a different root or leaf count.
    error BatchRefConflict(bytes32 batchRef, bytes32 root, uint32 leafCount);
    /// @notice No batch has this id.
    error UnknownBatch(bytes32 batchId);
    /// @notice The batch is already revoked.
    error BatchAlreadyRevoked(bytes32 batchId);
    /// @notice Only the batch's operator (or an admin) may revoke it.
    error NotBatchOperator(bytes32 batchId, address operator);
    /// @notice The zero address is no device.
    error InvalidDevice();
    /// @notice The device already has this status.
    error StatusUnchanged(address device, DeviceStatus status);
    /// @notice Revocation is final.
    error DeviceIsRevoked(address device);

    /// @notice Creates the registry.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE, who grants and revokes registrars.
    /// @param registrars Initial holders of REGISTRAR_ROLE.
    constructor(address admin, address[] memory registrars) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < registrars.length; i++) {
            _grantRole(REGISTRAR_ROLE, registrars[i]);
        }
    }

    /// @notice Anchors a provisioning batch: one Merkle root binds all its devices.
    /// @dev Idempotent per batchRef: anchoring the same reference with the same root and leaf
    /// count again changes nothing and returns false, so a resend after a crash is harmless.
    /// The same reference with other contents reverts rather than being ignored.
    /// @param root Root of the batch's standard Merkle tree of (device, imsiCommitment) leaves.
    /// @param leafCount Number of leaves in the tree.
    /// @param batchRef The backend's unique batch reference; the batch's id from now on.
    /// @return created True if this call anchored the batch, false if it was anchored before.
    function anchorBatch(bytes32 root, uint32 leafCount, bytes32 batchRef)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (bool created)
    {
        if (root == bytes32(0)) revert EmptyRoot();
        if (leafCount == 0) revert EmptyBatch();
        if (batchRef == bytes32(0)) revert InvalidBatchRef();
        Batch storage b = _batches[batchRef];
        bytes32 existing = b.root;
        if (existing != bytes32(0)) {
            if (existing != root || b.leafCount != leafCount) revert BatchRefConflict(batchRef, existing, b.leafCount);
            return false;
        }
        _batches[batchRef] =
            Batch({root: root, operator: msg.sender, leafCount: leafCount, anchoredAt: uint40(block.timestamp), revoked: false});
        emit BatchAnchored(batchRef, msg.sender, root, leafCount);
        return true;
    }

    /// @notice Whether a device is a valid member of a batch now: the proof holds, the batch
    /// exists and is not revoked, and the device is Active.
    /// @param batchId The batch the device was provisioned in (its batchRef).
    /// @param device The device's address (derived from the key its card generated).
    /// @param imsiCommitment keccak256(abi.encode(salt, imsi)) of the device's SIM.
    /// @param proof Sibling hashes from the leaf to the root, as OpenZeppelin's MerkleProof takes them.
    /// @return True if all of the above hold.
    function verify(bytes32 batchId, address device, bytes32 imsiCommitment, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        Batch storage b = _batches[batchId];
        if (b.revoked || _status[device] != DeviceStatus.Active) return false;
        bytes32 root = b.root;
        // An unknown batch has a zero root, which no proof reaches.
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, leafOf(device, imsiCommitment));
    }

    /// @notice The leaf of a device in a batch tree.
    /// @param device The device's address.
    /// @param imsiCommitment The SIM's IMSI commitment.
    /// @return The standard double-hashed leaf.
    function leafOf(address device, bytes32 imsiCommitment) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(device, imsiCommitment))));
    }

    /// @notice A device's status; Active unless a registrar suspended or revoked it.
    /// @param device The device's address.
    /// @return The status.
    function statusOf(address device) external view returns (DeviceStatus) {
        return _status[device];
    }

    /// @notice Suspends, resumes (Active) or revokes a device. Revocation is final.
    /// @param device The device's address.
    /// @param status The new status.
    function setStatus(address device, DeviceStatus status) external onlyRole(REGISTRAR_ROLE) {
        if (device == address(0)) revert InvalidDevice();
        DeviceStatus previous = _status[device];
        if (previous == DeviceStatus.Revoked) revert DeviceIsRevoked(device);
        if (previous == status) revert StatusUnchanged(device, status);
        _status[device] = status;
        emit DeviceStatusChanged(device, previous, status, msg.sender);
    }

    /// @notice Revokes a whole batch. Only its operator (a registrar), or an admin, may.
    /// @param batchId The batch to revoke.
    function revokeBatch(bytes32 batchId) external {
        bool isAdmin = hasRole(DEFAULT_ADMIN_ROLE, msg.sender);
        if (!isAdmin) _checkRole(REGISTRAR_ROLE);
        Batch storage b = _batches[batchId];
        if (b.root == bytes32(0)) revert UnknownBatch(batchId);
        if (b.revoked) revert BatchAlreadyRevoked(batchId);
        // Operators sharing a registry must not revoke each other's batches.
        if (!isAdmin && b.operator != msg.sender) revert NotBatchOperator(batchId, b.operator);
        b.revoked = true;
        emit BatchRevoked(batchId, msg.sender);
    }

    /// @notice A batch's record.
    /// @param batchId The batch id (its batchRef).
    /// @return The batch; reverts for an unknown id.
    function batch(bytes32 batchId) external view returns (Batch memory) {
        Batch memory b = _batches[batchId];
        if (b.root == bytes32(0)) revert UnknownBatch(batchId);
        return b;
    }

    /// @notice Whether a batch was anchored under this id.
    /// @param batchId The batch id (its batchRef).
    /// @return True once anchored, revoked or not.
    function isAnchored(bytes32 batchId) external view returns (bool) {
        return _batches[batchId].root != bytes32(0);
    }
}
