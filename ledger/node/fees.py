"""eth_feeHistory over the own tx index (base fees, gas ratios, tip percentiles)."""

from __future__ import annotations

from typing import Any

from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas

from ledger.node import index
from ledger.node.models import BlockTag
from ledger.node.reader import ChainView

__all__ = ["fee_history"]

#: Cancun blob base fee floor (no blobs are ever mined here).
MIN_BLOB_BASE_FEE = 1


def _rewards(
    node: ChainView, number: int, base_fee: int, gas_used: int, percentiles: list[float]
) -> list[str]:
    rows = index.txs_of_block(node.store, number)
    if not rows or gas_used == 0:
        return ["0x0"] * len(percentiles)
    tips = sorted((max(r.effective_gas_price - base_fee, 0), r.gas_used) for r in rows)
    out: list[str] = []
    position, cumulative = 0, tips[0][1]
    for p in percentiles:
        threshold = gas_used * p / 100
        while cumulative < threshold and position < len(tips) - 1:
            position += 1
            cumulative += tips[position][1]
        out.append(hex(tips[position][0]))
    return out


def fee_history(
    node: ChainView, count: int, newest: BlockTag, percentiles: list[float] | None
) -> dict[str, Any]:
    """geth-shaped fee history for `count` blocks ending at `newest`."""
    with node.store.read():
        last = node.reader.header(newest)
        first = max(0, int(last.block_number) - count + 1) if count else int(last.block_number) + 1
        base_fees: list[str] = []
        ratios: list[float] = []
        rewards: list[list[str]] = []
        for number in range(first, int(last.block_number) + 1):
            header = node.reader.header(number)
            base_fees.append(hex(int(header.base_fee_per_gas or 0)))
            ratios.append(int(header.gas_used) / int(header.gas_limit))
            if percentiles is not None:
                rewards.append(
                    _rewards(
                        node, number, int(header.base_fee_per_gas or 0), int(header.gas_used), percentiles
                    )
                )
        base_fees.append(hex(int(calculate_expected_base_fee_per_gas(last))))
        blocks = len(ratios)
        out: dict[str, Any] = {
            "oldestBlock": hex(first),
            "baseFeePerGas": base_fees if blocks else [],
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": [hex(MIN_BLOB_BASE_FEE)] * (blocks + 1) if blocks else [],
            "blobGasUsedRatio": [0.0] * blocks,
        }
        if percentiles is not None:
            out["reward"] = rewards
        return out
