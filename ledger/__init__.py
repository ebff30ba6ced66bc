"""Opsure permissioned-ledger package: contracts, Merkle trees, anchoring."""
