"""Envelope encryption of stored documents: a random data key per object, AES-256-GCM in chunks.

Each object gets its own random 256-bit data key. The key is wrapped by the deployment's
field keys (:func:`core.crypto.current_field_keys`), bound to the object's storage key, and
kept in ``claim_document.data_key``; the object holds only ciphertext::

    header  = b"OPSD" ‖ version (1 byte) ‖ chunk size (4, big-endian) ‖ nonce prefix (7 random)
    chunk i = AES-GCM(data key, nonce = prefix ‖ i (4, big-endian) ‖ last (1), plaintext[i], aad = header)

Every chunk but the last carries exactly ``chunk size`` plaintext bytes plus a 16-byte tag;
only the last is sealed with ``last = 1``. Chunks therefore cannot be reordered, dropped,
swapped between objects or cut off at a chunk boundary (the STREAM construction), and a
range read decrypts only the chunks it touches. The writer holds at most one chunk of
plaintext in memory and hashes it (SHA-256) on the way; nothing unsealed reaches the store.

Example::

    writer = SealedWriter(storage)
    writer.write(b"%PDF-1.7 ..."); ...
    stored = writer.commit()                         # StoredObject(key, size, sha256, data_key)
    reader = open_object(storage, stored.key, stored.data_key)
    b"".join(reader.read(0, 8))                      # b"%PDF-1.7"
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from collections.abc import Iterator
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.crypto import current_field_keys
from resolvers.claims.storage import Storage, StoredObject

__all__ = [
    "CHUNK_SIZE",
    "CorruptObjectError",
    "ObjectReader",
    "SealedWriter",
    "data_key_context",
    "open_object",
]

CHUNK_SIZE = 64 * 1024
_MAGIC = b"OPSD"
_VERSION = 1
_TAG = 16
_PREFIX = 7
_HEADER = struct.Struct(">4sBI7s")  # 16 bytes


class CorruptObjectError(Exception):
    """A stored object failed authentication or has an impossible layout."""


def data_key_context(storage_key: str) -> str:
    """The associated data binding a wrapped data key to its object (and so to its document row)."""
    return f"claim_document.data_key:{storage_key}"


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class SealedWriter:
    """Streams plaintext into a new sealed object of ``storage``; commit or abort exactly once."""

    def __init__(self, storage: Storage, *, chunk_size: int = CHUNK_SIZE) -> None:
        self._raw = storage.begin()
        self._data_key = AESGCM.generate_key(bit_length=256)
        self._aead = AESGCM(self._data_key)
        self._prefix = secrets.token_bytes(_PREFIX)
        self._chunk_size = chunk_size
        self._header = _HEADER.pack(_MAGIC, _VERSION, chunk_size, self._prefix)
        self._buffer = bytearray()
        self._index = 0
        self._hash = hashlib.sha256()
        self.size = 0
        try:
            self._raw.write(self._header)
        except BaseException:
            self._raw.abort()
            raise

    @property
    def key(self) -> str:
        """The storage key the object will have."""
        return self._raw.key

    def _seal(self, plaintext: bytes, *, last: bool) -> None:
        self._raw.write(self._aead.encrypt(_nonce(self._prefix, self._index, last), plaintext, self._header))
        self._index += 1

    def write(self, chunk: bytes) -> None:
        """Add plaintext; full chunks are sealed and written at once."""
        self._hash.update(chunk)
        self.size += len(chunk)
        self._buffer += chunk
        # keep the tail back: the last chunk is only known at commit
        while len(self._buffer) > self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), last=False)
            del self._buffer[: self._chunk_size]

    def commit(self) -> StoredObject:
        """Seal the last chunk, store the object and return it with its wrapped data key."""
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        wrapped = current_field_keys().seal(self._data_key.hex(), data_key_context(self._raw.key))
        self._raw.commit()
        return StoredObject(key=self._raw.key, size=self.size, sha256=self._hash.hexdigest(), data_key=wrapped)

    def abort(self) -> None:
        """Drop the object being written."""
        self._buffer.clear()
        self._raw.abort()


class ObjectReader(Protocol):
    """Plaintext of one stored object, by byte range."""

    size: int

    def read(self, start: int, end: int) -> Iterator[bytes]:
        """The plaintext bytes ``[start, end)`` in pieces of at most one chunk."""
        ...


class _PlainReader:
    """An object stored before encryption at rest."""

    def __init__(self, storage: Storage, key: str) -> None:
        self._storage = storage
        self._key = key
        self.size = storage.size(key)

    def read(self, start: int, end: int) -> Iterator[bytes]:
        pos = start
        while pos < end:
            piece = self._storage.read(self._key, pos, min(CHUNK_SIZE, end - pos))
            if not piece:
                raise CorruptObjectError("object is shorter than its recorded size")
            pos += len(piece)
            yield piece


class _SealedReader:
    def __init__(self, storage: Storage, key: str, wrapped: str) -> None:
        self._storage = storage
        self._key = key
        header = storage.read(key, 0, _HEADER.size)
        try:
            magic, version, chunk_size, prefix = _HEADER.unpack(header)
        except struct.error as exc:
            raise CorruptObjectError("object has no sealed header") from exc
        if magic != _MAGIC or version != _VERSION or chunk_size <= 0:
            raise CorruptObjectError("object header is not a known sealed format")
        try:
            data_key = bytes.fromhex(current_field_keys().open(wrapped, data_key_context(key)))
        except (InvalidTag, ValueError, LookupError) as exc:  # forged, moved, or under a retired field key
            raise CorruptObjectError("the data key does not open for this object") from exc
        self._aead = AESGCM(data_key)
        self._header = header
        self._prefix = prefix
        self._chunk = chunk_size
        body = storage.size(key) - _HEADER.size
        self._chunks = max(1, -(-body // (chunk_size + _TAG)))
        last_len = body - (self._chunks - 1) * (chunk_size + _TAG)
        if last_len < _TAG:
            raise CorruptObjectError("object is truncated")
        self.size = (self._chunks - 1) * chunk_size + last_len - _TAG

    def _chunk_plain(self, index: int) -> bytes:
        stride = self._chunk + _TAG
        sealed = self._storage.read(self._key, _HEADER.size + index * stride, stride)
        last = index == self._chunks - 1
        try:
            return self._aead.decrypt(_nonce(self._prefix, index, last), sealed, self._header)
        except InvalidTag as exc:
            raise CorruptObjectError(f"chunk {index} fails authentication") from exc

    def read(self, start: int, end: int) -> Iterator[bytes]:
        if start >= end:
            return
        for index in range(start // self._chunk, (end - 1) // self._chunk + 1):
            base = index * self._chunk
            plain = self._chunk_plain(index)
            yield plain[max(start - base, 0): end - base]


def open_object(storage: Storage, key: str, wrapped_data_key: str | None) -> ObjectReader:
    """A reader of the stored object ``key``: sealed when it has a wrapped data key, else plaintext."""
    if wrapped_data_key is None:
        return _PlainReader(storage, key)
    return _SealedReader(storage, key, wrapped_data_key)
