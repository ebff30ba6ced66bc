// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title AnchorRegistry
/// @notice Anchors Merkle roots of batches of record commitments (OpenZeppelin
///         StandardMerkleTree roots). Each root is anchored once; its block number,
///         timestamp, leaf count and record kind are kept so anyone can check when a
///         commitment was fixed on chain and verify membership proofs against it.
/// @dev Roles: DEFAULT_ADMIN_ROLE manages every role; ANCHORER_ROLE may anchor roots;
///      PARTNER_ROLE and AUDITOR_ROLE mirror off-chain partner and auditor status.
contract AnchorRegistry is AccessControl {
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    bytes32 public constant PARTNER_ROLE = keccak256("PARTNER_ROLE");
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR_ROLE");

    /// @dev One storage slot per root: 64 + 64 + 64 + 8 bits.
    struct Anchor {
        uint64 blockNumber;
        uint64 timestamp;
        uint64 count;
        uint8 kind;
    }

    mapping(bytes32 root => Anchor) private _anchors;

    /// @notice Total number of roots anchored.
    uint256 public anchorCount;

    /// @notice Emitted once per anchored root.
    event Anchored(
        bytes32 indexed root,
        uint64 count,
        uint8 indexed kind,
        uint256 blockNumber,
        address indexed anchorer
    );

    error RootAlreadyAnchored(bytes32 root);
    error ZeroRoot();
    error ZeroCount();
    error ZeroAddress();

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ANCHORER_ROLE, admin);
    }

    /// @notice Anchor a Merkle root of `count` leaves of record kind `kind`.
    function anchor(bytes32 root, uint64 count, uint8 kind) external onlyRole(ANCHORER_ROLE) {
        if (root == bytes32(0)) revert ZeroRoot();
        if (count == 0) revert ZeroCount();
        if (_anchors[root].blockNumber != 0) revert RootAlreadyAnchored(root);
        _anchors[root] = Anchor({
            blockNumber: uint64(block.number),
            timestamp: uint64(block.timestamp),
            count: count,
            kind: kind
        });
        unchecked {
            anchorCount += 1;
        }
        emit Anchored(root, count, kind, block.number, _msgSender());
    }

    /// @notice Block number in which `root` was anchored, 0 if never.
    function anchoredAt(bytes32 root) external view returns (uint256 blockNumber) {
        return _anchors[root].blockNumber;
    }

    /// @notice Full anchoring record of `root` (all zero if never anchored).
    function anchorOf(bytes32 root)
        external
        view
        returns (uint256 blockNumber, uint256 timestamp, uint64 count, uint8 kind)
    {
        Anchor memory a = _anchors[root];
        return (a.blockNumber, a.timestamp, a.count, a.kind);
    }

    /// @notice True iff `root` is anchored and `proof` proves `leaf` under it.
    /// @dev `leaf` is the StandardMerkleTree leaf hash:
    ///      keccak256(bytes.concat(keccak256(abi.encode(values)))).
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf)
        external
        view
        returns (bool)
    {
        return _anchors[root].blockNumber != 0 && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice Grant PARTNER_ROLE (admin only).
    function grantPartner(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _grantRole(PARTNER_ROLE, account);
    }

    /// @notice Revoke PARTNER_ROLE (admin only).
    function revokePartner(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _revokeRole(PARTNER_ROLE, account);
    }
}
