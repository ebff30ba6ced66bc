"""ledger.merkle: OpenZeppelin StandardMerkleTree compatibility and proof properties."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    StandardMerkleTree,
    keccak256,
    leaf_hash,
    node_hash,
    process_multi_proof,
    process_proof,
    to_json_value,
)
from tests import npm_tools

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
CHECK_SCRIPT = CONTRACTS / "scripts" / "merkle_check.mjs"

# The example from @openzeppelin/merkle-tree's README (root checked against the JS lib).
README_VALUES = [
    ["0x1111111111111111111111111111111111111111", "5000000000000000000"],
    ["0x2222222222222222222222222222222222222222", "2500000000000000000"],
]
README_ROOT = "0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"
README_DUMP = (
    '{"format":"standard-v1","leafEncoding":["address","uint256"],"tree":['
    '"0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77",'
    '"0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283",'
    '"0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc"],"values":['
    '{"value":["0x1111111111111111111111111111111111111111","5000000000000000000"],'
    '"treeIndex":1},'
    '{"value":["0x2222222222222222222222222222222222222222","2500000000000000000"],'
    '"treeIndex":2}]}'
)


def _b32(i: int) -> str:
    return "0x" + i.to_bytes(32, "big").hex()


def _flip(node: str, byte: int = 31) -> str:
    b = bytearray(bytes.fromhex(node[2:]))
    b[byte] ^= 0x01
    return "0x" + b.hex()


# ----------------------------------------------------------------------- known vectors


def test_readme_vector_root_proof_and_dump() -> None:
    tree = StandardMerkleTree.of(README_VALUES, ["address", "uint256"])
    assert tree.root == README_ROOT
    assert tree.dumps() == README_DUMP
    assert tree.get_proof(0) == [
        "0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc"
    ]
    assert StandardMerkleTree.verify(
        README_ROOT, ["address", "uint256"], README_VALUES[0], tree.get_proof(0)
    )
    loaded = StandardMerkleTree.loads(README_DUMP)
    assert loaded.root == README_ROOT
    assert loaded.dumps() == README_DUMP


def test_bytes32_vector_from_js() -> None:
    # StandardMerkleTree.of([[bytes32(1)], ..., [bytes32(5)]], ["bytes32"]) in JS.
    tree = StandardMerkleTree.of([[_b32(i)] for i in range(1, 6)], ["bytes32"])
    assert tree.root == "0x21abd2f655ded75d91fbd5e0b1ad35171a675fd315a077efa7f2d555a26e7094"
    assert tree.get_proof(3) == [
        "0x161691c7185a37ff918e70bebef716ddd87844ac47f419ea23eaf4fe983fbf2c",
        "0x1a6dbeb0d179031e5261494ac4b6ee4e284665e8d2ea3ff44f7a2ddf5ca07bb7",
    ]


def test_leaf_hash_definition() -> None:
    value = [README_VALUES[0][0], 5 * 10**18]
    encoded = abi_encode(["address", "uint256"], [value[0], value[1]])
    assert leaf_hash(["address", "uint256"], value) == keccak256(keccak256(encoded))
    # bytes and hex, int and decimal string, give the same leaf
    assert leaf_hash(["bytes32", "uint256"], [b"\x01" * 32, 7]) == leaf_hash(
        ["bytes32", "uint256"], ["0x" + "01" * 32, "7"]
    )


def test_layout_and_render() -> None:
    tree = StandardMerkleTree.of([[_b32(i)] for i in range(3)], ["bytes32"])
    nodes = tree.tree
    assert len(nodes) == 5
    leaves = sorted(tree.leaf_hash_at(i) for i in range(3))
    # leaves at the end of the array in reverse sorted order
    assert [bytes.fromhex(n[2:]) for n in nodes[2:]] == list(reversed(leaves))
    assert nodes[1] == "0x" + node_hash(nodes[3], nodes[4]).hex()
    assert nodes[0] == "0x" + node_hash(nodes[1], nodes[2]).hex()
    lines = tree.render().split("\n")
    assert lines[0] == f"0) {nodes[0]}"
    assert lines[1] == f"├─ 1) {nodes[1]}"
    assert lines[2] == f"│  ├─ 3) {nodes[3]}"
    assert lines[3] == f"│  └─ 4) {nodes[4]}"
    assert lines[4] == f"└─ 2) {nodes[2]}"


def test_single_leaf_tree() -> None:
    tree = StandardMerkleTree.of([[_b32(9)]], ["bytes32"])
    assert tree.get_proof(0) == []
    assert tree.root_bytes == leaf_hash(["bytes32"], [_b32(9)])
    assert StandardMerkleTree.verify(tree.root, ["bytes32"], [_b32(9)], [])


def test_errors() -> None:
    with pytest.raises(ValueError, match="non-zero"):
        StandardMerkleTree.of([], ["bytes32"])
    with pytest.raises(ValueError, match="elements"):
        StandardMerkleTree.of([[_b32(1), 2]], ["bytes32"])
    with pytest.raises(ValueError, match="out of range"):
        StandardMerkleTree.of([[256]], ["uint8"])
    with pytest.raises(ValueError):
        StandardMerkleTree.of([["0x" + "11" * 33]], ["bytes32"])
    with pytest.raises(ValueError):
        StandardMerkleTree.of([["0x1234"]], ["address"])
    tree = StandardMerkleTree.of([[_b32(1)], [_b32(2)]], ["bytes32"])
    with pytest.raises(IndexError):
        tree.get_proof(2)
    with pytest.raises(ValueError, match="not in tree"):
        tree.get_proof([_b32(3)])
    assert tree.get_proof([_b32(2)]) == tree.get_proof(1)
    assert not StandardMerkleTree.verify(tree.root, ["bytes32"], [_b32(1)], ["0x12"])


def test_load_rejects_tampering() -> None:
    tree = StandardMerkleTree.of([[_b32(i), i] for i in range(6)], ["bytes32", "uint256"])
    good = tree.dump()
    StandardMerkleTree.load(good)
    bad_node = json.loads(json.dumps(good))
    bad_node["tree"][1] = _flip(bad_node["tree"][1])
    with pytest.raises(ValueError, match="invalid"):
        StandardMerkleTree.load(bad_node)
    bad_value = json.loads(json.dumps(good))
    bad_value["values"][0]["value"][1] = 99
    with pytest.raises(ValueError, match="expected value"):
        StandardMerkleTree.load(bad_value)
    bad_format = dict(good, format="simple-v1")
    with pytest.raises(ValueError, match="format"):
        StandardMerkleTree.load(bad_format)


def test_json_values() -> None:
    assert to_json_value((b"\x01\x02", 5, 2**60, -(2**60), True, "x", [1])) == [
        "0x0102",
        5,
        str(2**60),
        str(-(2**60)),
        True,
        "x",
        [1],
    ]
    with pytest.raises(TypeError):
        to_json_value(1.5)


def test_large_tree_proves_every_sampled_leaf() -> None:
    values = [[_b32(i * 7919 + 1)] for i in range(20_000)]
    tree = StandardMerkleTree.of(values, ["bytes32"])
    assert len(tree) == 20_000
    for i in (0, 1, 9_999, 19_999):
        assert StandardMerkleTree.verify(tree.root, ["bytes32"], values[i], tree.get_proof(i))


# --------------------------------------------------------------------- property tests

BYTES32 = st.binary(min_size=32, max_size=32)
UINT256 = st.integers(min_value=0, max_value=2**256 - 1)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
ADDRESS = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)

# (leaf encoding, strategy for one leaf value)
ENCODINGS: list[tuple[list[str], st.SearchStrategy[list[Any]]]] = [
    (["bytes32"], st.tuples(BYTES32).map(list)),
    (["address", "uint256"], st.tuples(ADDRESS, UINT256).map(list)),
    (
        ["bytes32", "uint64", "int64", "bool", "bytes4"],
        st.tuples(
            BYTES32,
            st.integers(min_value=0, max_value=2**64 - 1),
            INT64,
            st.booleans(),
            st.binary(min_size=4, max_size=4),
        ).map(list),
    ),
    (
        ["string", "bytes", "uint256[]"],
        st.tuples(TEXT, st.binary(max_size=70), st.lists(UINT256, max_size=3)).map(list),
    ),
    (
        ["(bytes32,uint8)", "address[2]"],
        st.tuples(
            st.tuples(BYTES32, st.integers(min_value=0, max_value=255)),
            st.tuples(ADDRESS, ADDRESS),
        ).map(list),
    ),
]


@st.composite
def trees(draw: st.DrawFn, max_leaves: int = 40) -> tuple[list[str], list[list[Any]]]:
    """Draw a leaf encoding and a non-empty list of values for it."""
    encoding, value = draw(st.sampled_from(ENCODINGS))
    values = draw(st.lists(value, min_size=1, max_size=max_leaves))
    return encoding, values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=trees(), pick=st.integers(min_value=0), flip=st.integers(min_value=0, max_value=31))
def test_every_proof_verifies_and_tampering_fails(
    data: tuple[list[str], list[list[Any]]], pick: int, flip: int
) -> None:
    encoding, values = data
    tree = StandardMerkleTree.of(values, encoding)
    tree.validate()
    root = tree.root
    hashes = {tree.leaf_hash_at(i) for i in range(len(values))}
    for i, value in enumerate(values):
        proof = tree.get_proof(i)
        assert StandardMerkleTree.verify(root, encoding, value, proof)
        assert process_proof(tree.leaf_hash_at(i), proof) == tree.root_bytes
        assert tree.verify_proof(i, proof)

    i = pick % len(values)
    value = tree.at(i)
    proof = tree.get_proof(i)
    # tampered root
    assert not StandardMerkleTree.verify(_flip(root, flip), encoding, value, proof)
    # tampered proof: a flipped node, a dropped node, an extra node
    if proof:
        j = pick % len(proof)
        bad = [*proof[:j], _flip(proof[j], flip), *proof[j + 1 :]]
        assert not StandardMerkleTree.verify(root, encoding, value, bad)
        assert not StandardMerkleTree.verify(root, encoding, value, proof[:-1])
    assert not StandardMerkleTree.verify(root, encoding, value, [*proof, root])
    # tampered leaf (a leaf hash not in the tree)
    bad_leaf = bytes.fromhex(_flip("0x" + tree.leaf_hash_at(i).hex(), flip)[2:])
    if bad_leaf not in hashes:
        assert process_proof(bad_leaf, proof) != tree.root_bytes


@settings(max_examples=100, deadline=None)
@given(data=trees(), seed=st.integers(min_value=0, max_value=2**32))
def test_dump_load_roundtrip_and_multiproof(
    data: tuple[list[str], list[list[Any]]], seed: int
) -> None:
    encoding, values = data
    tree = StandardMerkleTree.of(values, encoding)
    text = tree.dumps()
    loaded = StandardMerkleTree.loads(text)
    assert loaded.root == tree.root
    assert loaded.dumps() == text
    assert json.loads(text)["tree"] == tree.tree

    rng = random.Random(seed)
    indices = rng.sample(range(len(values)), rng.randint(0, len(values)))
    leaf_hashes = {tree.leaf_hash_at(i) for i in indices}
    if len(leaf_hashes) != len(indices):  # duplicate values cannot be multi-proved twice
        return
    multi = tree.get_multi_proof(indices)
    assert tree.verify_multi_proof(multi)
    assert StandardMerkleTree.verify_multi(tree.root, encoding, multi)
    hashes = [tree.leaf_hash(v) for v in multi["leaves"]]
    assert process_multi_proof(hashes, multi["proof"], multi["proofFlags"]) == tree.root_bytes
    if multi["proof"]:
        bad = dict(multi, proof=[_flip(multi["proof"][0]), *multi["proof"][1:]])
        assert not tree.verify_multi_proof(bad)


@settings(max_examples=200, deadline=None)
@given(data=st.sampled_from(ENCODINGS[:3]).flatmap(lambda e: st.tuples(st.just(e[0]), e[1])))
def test_fast_encoder_matches_eth_abi(data: tuple[list[str], list[Any]]) -> None:
    encoding, value = data
    args = [
        bytes.fromhex(v[2:]) if t == "address" else v for t, v in zip(encoding, value, strict=True)
    ]
    expected = keccak256(keccak256(abi_encode(encoding, args)))
    assert leaf_hash(encoding, value) == expected


# ------------------------------------------------------------- cross-check with the JS lib


def _fixed_cases() -> list[tuple[list[str], list[list[Any]]]]:
    rng = random.Random(20240611)

    def rb(n: int) -> str:
        return "0x" + rng.randbytes(n).hex()

    cases: list[tuple[list[str], list[list[Any]]]] = []
    for n in (1, 2, 3, 4, 5, 7, 8, 9, 33, 100):
        cases.append((["bytes32"], [[rb(32)] for _ in range(n)]))
    cases.append((["address", "uint256"], README_VALUES))
    cases.append(
        (
            ["address", "uint256"],
            [[rb(20), str(rng.getrandbits(256))] for _ in range(17)] + [[rb(20), 12345]],
        )
    )
    cases.append((["bytes32"], [[rb(32)]] * 3 + [[rb(32)] for _ in range(4)]))  # duplicates
    cases.append(
        (
            ["string", "bytes", "uint256[]", "bool"],
            [
                ["hello", "0x", [], True],
                ['h\u00e9llo \u2603 \U0001f600 "q" \\ \n\t\x01', rb(70), ["1", "2"], False],
                ["", rb(1), [str(2**256 - 1)], True],
            ],
        )
    )
    cases.append(
        (
            ["(bytes32,uint8)", "address[2]", "int64"],
            [[[rb(32), i], [rb(20), rb(20)], str(-(2**63) + i)] for i in range(6)],
        )
    )
    cases.append(
        (
            ["bytes32", "uint64", "uint8"],
            [[rb(32), rng.getrandbits(40), k] for k in range(1, 8)] * 2,
        )
    )
    return cases


@pytest.mark.npm
def test_cross_check_with_openzeppelin_js() -> None:
    npm_tools.package("@openzeppelin/merkle-tree")
    node = npm_tools.node()
    requests = []
    trees_: list[StandardMerkleTree] = []
    multi_indices: list[list[int]] = []
    rng = random.Random(7)
    for encoding, values in _fixed_cases():
        tree = StandardMerkleTree.of(values, encoding)
        trees_.append(tree)
        distinct: dict[bytes, int] = {}
        for i in range(len(values)):
            distinct.setdefault(tree.leaf_hash_at(i), i)
        idx = sorted(rng.sample(sorted(distinct.values()), min(3, len(distinct))))
        multi_indices.append(idx)
        requests.append(
            {
                "leafEncoding": encoding,
                "values": [tree.at(i) for i in range(len(tree))],
                "root": tree.root,
                "pythonDump": tree.dumps(),
                "proofs": [
                    {"value": tree.at(i), "proof": tree.get_proof(i)} for i in range(len(tree))
                ]
                + [
                    {
                        "value": tree.at(0),
                        "proof": [_flip(p) for p in tree.get_proof(0)] or [tree.root],
                    }
                ],
                "multiIndices": idx,
                "pythonMultiProof": tree.get_multi_proof(idx),
            }
        )
    proc = subprocess.run(
        [node, str(CHECK_SCRIPT)],
        input=json.dumps({"cases": requests}),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert len(results) == len(requests)
    for tree, idx, res in zip(trees_, multi_indices, results, strict=True):
        assert res["root"] == tree.root
        assert res["dump"] == tree.dumps()  # byte-for-byte
        assert res["loadedRoot"] == tree.root
        assert res["render"] == tree.render()
        assert res["jsProofs"] == [tree.get_proof(i) for i in range(len(tree))]
        assert res["verify"] == [True] * len(tree) + [False]
        assert res["jsMultiProof"] == tree.get_multi_proof(idx)
        assert res["verifyPythonMultiProof"] is True
