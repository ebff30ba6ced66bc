"""Partner registry, keys, EIP-712 verification and shared risk data (to come)."""
