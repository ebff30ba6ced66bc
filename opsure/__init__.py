"""Opsure's roof: the app factory, the CLI and the worker that compose every floor below."""

import os as _os

# eth-hash picks its keccak backend at first use: pysha3 is ~7x faster than pycryptodome.
_os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
