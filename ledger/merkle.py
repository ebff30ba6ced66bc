"""OpenZeppelin ``StandardMerkleTree`` (@openzeppelin/merkle-tree 1.0.x), byte-compatible.

Leaf hash: ``keccak256(bytes.concat(keccak256(abi.encode(types, values))))``.
Node hash: keccak256 of the sorted pair (commutative).
Layout: leaves sorted by hash (stable), placed at the end of the array in reverse
order, ``tree[0]`` is the root, children of ``i`` are ``2i+1`` and ``2i+2``.
``dump()`` / ``load()`` use the JS library's ``standard-v1`` format.

Values are kept in their JSON form (what ``dump()`` writes and ``load()`` reads):
bytes become ``0x``-hex strings, integers outside JavaScript's safe range become
decimal strings, tuples become lists. Hashes are exchanged as lowercase ``0x`` hex
strings (as the JS library does); ``*_bytes`` variants return raw 32-byte values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

from eth_abi.abi import encode as _abi_encode
from eth_abi.grammar import BasicType, TupleType
from eth_abi.grammar import parse as _abi_parse

__all__ = [
    "KECCAK_BACKEND",
    "Bytes32Like",
    "MultiProof",
    "StandardMerkleTree",
    "keccak256",
    "leaf_hash",
    "node_hash",
    "process_multi_proof",
    "process_proof",
    "to_json_value",
]

Bytes32Like: TypeAlias = bytes | str
LeafValue: TypeAlias = Sequence[Any]
MultiProof: TypeAlias = dict[str, Any]

FORMAT = "standard-v1"
_MAX_SAFE_INTEGER = 2**53 - 1


class _Hash(Protocol):
    def digest(self) -> bytes: ...


_EMPTY_KECCAK = bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def _pick_keccak() -> tuple[Callable[[bytes], _Hash], str]:
    """Return the fastest available keccak256 hasher constructor and its name."""
    try:
        from sha3 import keccak_256  # safe-pysha3: ~0.7 us per 64-byte hash

        if keccak_256(b"").digest() == _EMPTY_KECCAK:
            return keccak_256, "pysha3"
    except ImportError:  # pragma: no cover - depends on installed packages
        pass
    try:  # pragma: no cover
        from Crypto.Hash import keccak as _ck
    except ImportError:  # pragma: no cover
        raise ImportError("ledger.merkle needs safe-pysha3 (or pycryptodome)") from None

    def _pycryptodome(data: bytes) -> _Hash:  # pragma: no cover
        return _ck.new(data=data, digest_bits=256)  # type: ignore[no-any-return]

    return _pycryptodome, "pycryptodome"  # pragma: no cover


# Hot loops call ``_new(data).digest()`` directly (no wrapper call per hash).
_new, KECCAK_BACKEND = _pick_keccak()


def keccak256(data: bytes) -> bytes:
    """Return the keccak256 digest of ``data``."""
    return _new(data).digest()


# --------------------------------------------------------------------------- bytes


def _b32(node: Bytes32Like) -> bytes:
    """Convert a 32-byte node given as bytes or hex into bytes."""
    if isinstance(node, str):
        h = node[2:] if node[:2] in ("0x", "0X") else node
        try:
            out = bytes.fromhex(h)
        except ValueError:
            raise ValueError(f"Invalid hex node: {node!r}") from None
    elif isinstance(node, bytes | bytearray | memoryview):
        out = bytes(node)
    else:
        raise TypeError(f"Merkle tree node must be bytes or hex string, got {type(node)!r}")
    if len(out) != 32:
        raise ValueError("Merkle tree nodes must be 32 bytes long")
    return out


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _hex_to_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        h = value[2:]
        if len(h) % 2:
            raise ValueError(f"Odd-length hex for {what}: {value!r}")
        try:
            return bytes.fromhex(h)
        except ValueError:
            raise ValueError(f"Invalid hex for {what}: {value!r}") from None
    raise ValueError(f"Expected 0x-prefixed hex or bytes for {what}, got {value!r}")


def _to_int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"Invalid number for {what}: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        s = value.strip()
        try:
            if s[:2] in ("0x", "0X"):
                return int(s[2:], 16)
            if s[:3] in ("-0x", "-0X"):
                return -int(s[3:], 16)
            return int(s, 10)
        except ValueError:
            pass
    raise ValueError(f"Invalid number for {what}: {value!r}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise ValueError(f"Invalid boolean value: {value!r}")


def _to_json_leaf(value: Any) -> Any:
    """Fast path of ``to_json_value`` for a flat leaf of str/bytes/bool/small ints."""
    tv = type(value)
    if tv is not list and tv is not tuple:
        return to_json_value(value)
    out: list[Any] = []
    for x in value:
        tx = type(x)
        if tx is str or tx is bool:
            out.append(x)
        elif tx is bytes:
            out.append("0x" + x.hex())
        else:
            out.append(to_json_value(x))
    return out


def to_json_value(value: Any) -> Any:
    """Return ``value`` in the JSON form stored in trees and dumps."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    raise TypeError(f"Unsupported leaf value element: {value!r} ({type(value).__name__})")


# ------------------------------------------------------------------------ encoding

_Encoder: TypeAlias = Callable[[Any], bytes]
_INT_RE = re.compile(r"^(u?)int(\d*)$")
_BYTES_N_RE = re.compile(r"^bytes(\d+)$")


def _uint_encoder(bits: int, name: str) -> _Encoder:
    limit = 1 << bits

    def enc(v: Any) -> bytes:
        x = _to_int(v, name)
        if not 0 <= x < limit:
            raise ValueError(f"Number {v!r} is out of range for type {name!r}")
        return x.to_bytes(32, "big")

    return enc


def _int_encoder(bits: int, name: str) -> _Encoder:
    lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)
    mod = 1 << 256

    def enc(v: Any) -> bytes:
        x = _to_int(v, name)
        if not lo <= x < hi:
            raise ValueError(f"Number {v!r} is out of range for type {name!r}")
        return (x % mod).to_bytes(32, "big")

    return enc


def _bytes_n_encoder(n: int, name: str) -> _Encoder:
    def enc(v: Any) -> bytes:
        b = _hex_to_bytes(v, name)
        if len(b) > n:
            raise ValueError(f"Expected a value of at most {n} bytes for {name!r}")
        return b.ljust(32, b"\0")

    return enc


def _address_encoder(v: Any) -> bytes:
    b = _hex_to_bytes(v, "address")
    if len(b) != 20:
        raise ValueError(f"Address must be 20 bytes: {v!r}")
    return b.rjust(32, b"\0")


def _bool_encoder(v: Any) -> bytes:
    return (b"\0" * 31) + (b"\1" if _to_bool(v) else b"\0")


def _static_encoder(t: str) -> _Encoder | None:
    """Return a fast head encoder for a static elementary ABI type, else None."""
    m = _INT_RE.match(t)
    if m:
        bits = int(m.group(2) or 256)
        if bits % 8 or not 8 <= bits <= 256 or m.group(2).startswith("0"):
            return None
        return _uint_encoder(bits, t) if m.group(1) else _int_encoder(bits, t)
    m = _BYTES_N_RE.match(t)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 32 or m.group(1).startswith("0"):
            return None
        return _bytes_n_encoder(n, t)
    if t == "address":
        return _address_encoder
    if t == "bool":
        return _bool_encoder
    return None


def _type_name(t: Any) -> str:
    return str(t.to_type_str())


def _to_abi(t: Any, value: Any) -> Any:
    """Convert a JSON-form value into what eth-abi expects for parsed type ``t``."""
    if t.arrlist:
        if not isinstance(value, list | tuple):
            raise ValueError(f"Expected an array for {_type_name(t)!r}, got {value!r}")
        item = t.item_type
        return [_to_abi(item, v) for v in value]
    if isinstance(t, TupleType):
        if not isinstance(value, list | tuple) or len(value) != len(t.components):
            raise ValueError(f"Expected a tuple for {_type_name(t)!r}, got {value!r}")
        return tuple(_to_abi(c, v) for c, v in zip(t.components, value, strict=True))
    assert isinstance(t, BasicType)
    base = t.base
    if base in ("uint", "int"):
        return _to_int(value, _type_name(t))
    if base == "bytes":
        b = _hex_to_bytes(value, _type_name(t))
        return b
    if base == "address":
        b = _hex_to_bytes(value, "address")
        if len(b) != 20:
            raise ValueError(f"Address must be 20 bytes: {value!r}")
        return b
    if base == "bool":
        return _to_bool(value)
    return value


class _LeafEncoder:
    """Encoder of leaf values for one leaf encoding (list of ABI types)."""

    __slots__ = ("_parsed", "_static", "types")

    def __init__(self, types: Sequence[str]) -> None:
        if isinstance(types, str) or not all(isinstance(t, str) for t in types):
            raise TypeError("leaf encoding must be a sequence of ABI type strings")
        self.types = list(types)
        statics = [_static_encoder(t) for t in self.types]
        self._static: list[_Encoder] | None = (
            [s for s in statics if s is not None] if all(s is not None for s in statics) else None
        )
        self._parsed: list[Any] | None = None
        if self._static is None:
            self._parsed = [_abi_parse(t) for t in self.types]

    def encode(self, value: LeafValue) -> bytes:
        """Return ``abi.encode(types, value)``."""
        if not isinstance(value, list | tuple):
            raise ValueError(f"Leaf value must be a list or tuple, got {type(value).__name__}")
        if len(value) != len(self.types):
            raise ValueError(
                f"Leaf value has {len(value)} elements, leaf encoding has {len(self.types)}"
            )
        if self._static is not None:
            return b"".join([e(v) for e, v in zip(self._static, value, strict=True)])
        assert self._parsed is not None
        args = [_to_abi(t, v) for t, v in zip(self._parsed, value, strict=True)]
        return bytes(_abi_encode(self.types, args))

    def leaf_hash(self, value: LeafValue) -> bytes:
        """Return the standard leaf hash of ``value``."""
        k = _new
        return k(k(self.encode(value)).digest()).digest()


def leaf_hash(leaf_encoding: Sequence[str], value: LeafValue) -> bytes:
    """Return ``keccak256(keccak256(abi.encode(leaf_encoding, value)))``."""
    return _LeafEncoder(leaf_encoding).leaf_hash(to_json_value(value))


def node_hash(a: Bytes32Like, b: Bytes32Like) -> bytes:
    """Return the commutative (sorted pair) keccak256 of two nodes."""
    x, y = _b32(a), _b32(b)
    return _new(x + y if x < y else y + x).digest()


# ------------------------------------------------------------------------- proofs


def process_proof(leaf: Bytes32Like, proof: Sequence[Bytes32Like]) -> bytes:
    """Return the root obtained by hashing ``leaf`` up along ``proof``."""
    k = _new
    h = _b32(leaf)
    for node in proof:
        p = node if type(node) is bytes and len(node) == 32 else _b32(node)
        h = k(h + p if h < p else p + h).digest()
    return h


def process_multi_proof(
    leaves: Sequence[Bytes32Like],
    proof: Sequence[Bytes32Like],
    proof_flags: Sequence[bool],
) -> bytes:
    """Return the root obtained from a multiproof over already-hashed ``leaves``."""
    stack = [_b32(x) for x in leaves]
    nodes = [_b32(x) for x in proof]
    if len(nodes) < sum(1 for f in proof_flags if not f):
        raise ValueError("Invalid multiproof format")
    if len(stack) + len(nodes) != len(proof_flags) + 1:
        raise ValueError("Provided leaves and multiproof are not compatible")
    k = _new
    si = pi = 0
    try:
        for flag in proof_flags:
            a = stack[si]
            si += 1
            if flag:
                b = stack[si]
                si += 1
            else:
                b = nodes[pi]
                pi += 1
            stack.append(k(a + b if a < b else b + a).digest())
    except IndexError:
        raise ValueError("Invalid multiproof") from None
    if (len(stack) - si) + (len(nodes) - pi) != 1:
        raise ValueError("Invalid multiproof")
    return stack[-1] if si < len(stack) else nodes[pi]


def _build_tree(leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    tree: list[bytes] = [b""] * (n - 1)
    tree.extend(reversed(leaves))
    k = _new
    for i in range(n - 2, -1, -1):
        a = tree[2 * i + 1]
        b = tree[2 * i + 2]
        tree[i] = k(a + b if a < b else b + a).digest()
    return tree


def _is_valid_tree(tree: Sequence[bytes]) -> bool:
    n = len(tree)
    k = _new
    for i, node in enumerate(tree):
        if len(node) != 32:
            return False
        left, right = 2 * i + 1, 2 * i + 2
        if right >= n:
            if left < n:
                return False
        else:
            a, b = tree[left], tree[right]
            if node != k(a + b if a < b else b + a).digest():
                return False
    return n > 0


# ------------------------------------------------------------------------- the tree


class StandardMerkleTree:
    """A Merkle tree exactly as OpenZeppelin's JS ``StandardMerkleTree`` builds it."""

    __slots__ = ("_encoder", "_lookup", "_tree", "_tree_index", "_values", "leaf_encoding")

    def __init__(
        self,
        tree: list[bytes],
        values: list[Any],
        tree_index: list[int],
        leaf_encoding: Sequence[str],
    ) -> None:
        """Wrap prepared parts; use ``of`` or ``load`` instead."""
        self._tree = tree
        self._values = values
        self._tree_index = tree_index
        self.leaf_encoding = list(leaf_encoding)
        self._encoder = _LeafEncoder(self.leaf_encoding)
        self._lookup: dict[bytes, int] | None = None

    # construction ------------------------------------------------------------

    @classmethod
    def of(
        cls,
        values: Sequence[LeafValue],
        leaf_encoding: Sequence[str],
        *,
        sort_leaves: bool = True,
    ) -> StandardMerkleTree:
        """Build a tree from leaf ``values`` encoded as ``leaf_encoding``."""
        if isinstance(values, str | bytes):
            raise TypeError("values must be a sequence of leaf values")
        encoder = _LeafEncoder(leaf_encoding)
        json_values = [_to_json_leaf(v) for v in values]
        if not json_values:
            raise ValueError("Expected non-zero number of leaves")
        for v in json_values:
            if not isinstance(v, list):
                raise ValueError("Leaf values must be lists or tuples")
        k = _new
        enc = encoder.encode
        hashes = [k(k(enc(v)).digest()).digest() for v in json_values]
        order = list(range(len(hashes)))
        if sort_leaves:
            order.sort(key=hashes.__getitem__)  # stable, like Array.prototype.sort
        tree = _build_tree([hashes[i] for i in order])
        last = len(tree) - 1
        tree_index = [0] * len(hashes)
        for leaf_pos, value_index in enumerate(order):
            tree_index[value_index] = last - leaf_pos
        return cls(tree, json_values, tree_index, encoder.types)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """Load (and validate) a tree from a ``standard-v1`` dump."""
        if data.get("format") != FORMAT:
            raise ValueError(f"Unknown format {data.get('format')!r}")
        if data.get("leafEncoding") is None:
            raise ValueError("Expected leaf encoding")
        tree = [_b32(x) for x in data["tree"]]
        values = [to_json_value(v["value"]) for v in data["values"]]
        tree_index = [int(v["treeIndex"]) for v in data["values"]]
        t = cls(tree, values, tree_index, data["leafEncoding"])
        t.validate()
        return t

    @classmethod
    def loads(cls, text: str | bytes) -> StandardMerkleTree:
        """Load (and validate) a tree from ``standard-v1`` JSON text."""
        loaded: Mapping[str, Any] = json.loads(text)
        return cls.load(loaded)

    # serialisation --------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Return the ``standard-v1`` dump (same keys and order as the JS library)."""
        return {
            "format": FORMAT,
            "leafEncoding": list(self.leaf_encoding),
            "tree": [_hex(n) for n in self._tree],
            "values": [
                {"value": v, "treeIndex": ti}
                for v, ti in zip(self._values, self._tree_index, strict=True)
            ],
        }

    def dumps(self, indent: int | None = None) -> str:
        """Return the dump as JSON text, byte-identical to ``JSON.stringify(tree.dump())``."""
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(self.dump(), ensure_ascii=False, indent=indent, separators=separators)

    def render(self) -> str:
        """Return the ASCII rendering of the tree, as the JS ``render()``."""
        tree = self._tree
        n = len(tree)
        stack: list[tuple[int, list[int]]] = [(0, [])]
        lines: list[str] = []
        while stack:
            i, path = stack.pop()
            prefix = "".join(("   ", "│  ")[p] for p in path[:-1])
            prefix += "".join(("└─ ", "├─ ")[p] for p in path[-1:])
            lines.append(f"{prefix}{i}) {_hex(tree[i])}")
            if 2 * i + 2 < n:
                stack.append((2 * i + 2, [*path, 0]))
                stack.append((2 * i + 1, [*path, 1]))
        return "\n".join(lines)

    # accessors ------------------------------------------------------------------

    @property
    def root(self) -> str:
        """Return the root as a 0x hex string."""
        return _hex(self._tree[0])

    @property
    def root_bytes(self) -> bytes:
        """Return the root as 32 bytes."""
        return self._tree[0]

    @property
    def tree(self) -> list[str]:
        """Return all nodes as 0x hex strings (array layout)."""
        return [_hex(n) for n in self._tree]

    def __len__(self) -> int:
        """Return the number of leaf values."""
        return len(self._values)

    def at(self, index: int) -> Any:
        """Return the (JSON-form) value at insertion ``index``."""
        return self._values[index]

    def entries(self) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, value)`` in insertion order."""
        yield from enumerate(self._values)

    def tree_index(self, index: int) -> int:
        """Return the array position of the leaf for value ``index``."""
        return self._tree_index[index]

    def leaf_hash_at(self, index: int) -> bytes:
        """Return the leaf hash of value ``index`` (as stored in the tree)."""
        return self._tree[self._tree_index[index]]

    def leaf_hash(self, value: LeafValue) -> bytes:
        """Return the leaf hash of ``value`` under this tree's encoding."""
        return self._encoder.leaf_hash(to_json_value(value))

    def leaf_lookup(self, value: LeafValue) -> int:
        """Return the insertion index of ``value``; ValueError if absent."""
        if self._lookup is None:
            tree, ti = self._tree, self._tree_index
            self._lookup = {tree[ti[i]]: i for i in range(len(ti))}
        found = self._lookup.get(self.leaf_hash(value))
        if found is None:
            raise ValueError("Leaf is not in tree")
        return found

    def validate(self) -> None:
        """Raise ValueError unless every value hashes to its leaf and the tree is valid."""
        for i in range(len(self._values)):
            self._validate_value_at(i)
        if not _is_valid_tree(self._tree):
            raise ValueError("Merkle tree is invalid")

    def _validate_value_at(self, index: int) -> None:
        if not 0 <= index < len(self._values):
            raise IndexError("Index out of bounds")
        ti = self._tree_index[index]
        if not self._is_leaf(ti) or self._tree[ti] != self._encoder.leaf_hash(self._values[index]):
            raise ValueError("Merkle tree does not contain the expected value")

    def _is_leaf(self, i: int) -> bool:
        return 0 <= i < len(self._tree) and 2 * i + 1 >= len(self._tree)

    def _index_of(self, leaf: int | LeafValue) -> int:
        if isinstance(leaf, bool):
            raise TypeError("Leaf must be a value index or a leaf value")
        if isinstance(leaf, int):
            if not 0 <= leaf < len(self._values):
                raise IndexError("Index out of bounds")
            return leaf
        return self.leaf_lookup(leaf)

    # proofs ---------------------------------------------------------------------

    def get_proof_bytes(self, leaf: int | LeafValue) -> list[bytes]:
        """Return the proof for a value (insertion index or the value) as 32-byte nodes."""
        i = self._tree_index[self._index_of(leaf)]
        tree = self._tree
        proof: list[bytes] = []
        while i > 0:
            proof.append(tree[i + 1 if i % 2 else i - 1])
            i = (i - 1) // 2
        return proof

    def get_proof(self, leaf: int | LeafValue) -> list[str]:
        """Return the proof for a value (insertion index or the value) as hex strings."""
        return [_hex(p) for p in self.get_proof_bytes(leaf)]

    def get_multi_proof(self, leaves: Sequence[int | LeafValue]) -> MultiProof:
        """Return ``{leaves, proof, proofFlags}`` proving several values at once."""
        value_indices = [self._index_of(x) for x in leaves]
        indices = sorted((self._tree_index[v] for v in value_indices), reverse=True)
        if any(indices[p] == indices[p + 1] for p in range(len(indices) - 1)):
            raise ValueError("Cannot prove duplicated index")
        tree = self._tree
        stack = list(indices)
        head = 0
        proof: list[bytes] = []
        flags: list[bool] = []
        while head < len(stack) and stack[head] > 0:
            j = stack[head]
            head += 1
            s = j + 1 if j % 2 else j - 1
            p = (j - 1) // 2
            if head < len(stack) and s == stack[head]:
                flags.append(True)
                head += 1
            else:
                flags.append(False)
                proof.append(tree[s])
            stack.append(p)
        if not indices:
            proof.append(tree[0])
        by_hash = {tree[self._tree_index[v]]: v for v in value_indices}
        return {
            "leaves": [self._values[by_hash[tree[i]]] for i in indices],
            "proof": [_hex(x) for x in proof],
            "proofFlags": flags,
        }

    def verify_proof(self, leaf: int | LeafValue, proof: Sequence[Bytes32Like]) -> bool:
        """Return True iff ``proof`` proves the value (or value index) against this root."""
        if isinstance(leaf, bool):
            return False
        h = self.leaf_hash_at(self._index_of(leaf)) if isinstance(leaf, int) else self.leaf_hash(leaf)
        try:
            return process_proof(h, proof) == self._tree[0]
        except (ValueError, TypeError):
            return False

    def verify_multi_proof(self, multiproof: Mapping[str, Any]) -> bool:
        """Return True iff ``multiproof`` (as from ``get_multi_proof``) proves its leaves."""
        return StandardMerkleTree.verify_multi(self._tree[0], self.leaf_encoding, multiproof)

    @staticmethod
    def verify(
        root: Bytes32Like,
        leaf_encoding: Sequence[str],
        value: LeafValue,
        proof: Sequence[Bytes32Like],
    ) -> bool:
        """Return True iff ``proof`` proves ``value`` under ``root`` (JS ``verify``)."""
        try:
            h = _LeafEncoder(leaf_encoding).leaf_hash(to_json_value(value))
            return process_proof(h, proof) == _b32(root)
        except (ValueError, TypeError):
            return False

    @staticmethod
    def verify_multi(
        root: Bytes32Like, leaf_encoding: Sequence[str], multiproof: Mapping[str, Any]
    ) -> bool:
        """Return True iff ``multiproof`` proves its values under ``root``."""
        try:
            enc = _LeafEncoder(leaf_encoding)
            hashes = [enc.leaf_hash(to_json_value(v)) for v in multiproof["leaves"]]
            got = process_multi_proof(hashes, multiproof["proof"], multiproof["proofFlags"])
            return got == _b32(root)
        except (ValueError, TypeError, IndexError, KeyError):
            return False
