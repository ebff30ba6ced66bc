"""A wall-clock deadline inside py-evm's opcode loop, for reads (eth_call, eth_estimateGas).

A thread running Python cannot be killed, so an endless loop must stop itself. Every
opcode with a gas cost goes through its computation's gas meter; the read VM's meter
looks at the clock every ``CHECK_EVERY`` charges and raises :class:`ExecutionTimeout`
(not a ``VMError``, so no frame of the call catches it: it unwinds the whole call).
Outside :func:`evm_deadline` the read VM behaves exactly like the mining VM.

Example::

    chain = read_chain_class(OpsureChain)(db)
    with evm_deadline(time.monotonic() + 2.0):
        ...                     # state.costless_execute_transaction(...) on chain.get_vm()
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from contextvars import ContextVar

from eth.exceptions import OutOfGas
from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.cancun.computation import CancunComputation
from eth.vm.forks.cancun.state import CancunState
from eth.vm.gas_meter import GasMeter
from eth_typing import BlockNumber
from eth_utils.exceptions import ValidationError

from ledger.node.chain import OpsureChain
from ledger.node.errors import ExecutionTimeout

__all__ = ["CHECK_EVERY", "evm_deadline", "read_chain_class"]

#: Gas charges between two clock reads (an opcode costs one charge; ~0.3 ms of EVM work).
CHECK_EVERY = 1024

_DEADLINE: ContextVar[float | None] = ContextVar("opsure_evm_deadline", default=None)


@contextlib.contextmanager
def evm_deadline(deadline: float | None) -> Iterator[None]:
    """Reads in this context stop with ExecutionTimeout after ``deadline`` (time.monotonic())."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class _DeadlineGasMeter(GasMeter):
    """A gas meter that also reads the clock every CHECK_EVERY charges."""

    def __init__(self, meter: GasMeter, deadline: float) -> None:
        super().__init__(meter.start_gas, meter.refund_strategy)
        self._deadline = deadline
        self._until_check = CHECK_EVERY

    def consume_gas(self, amount: int, reason: str) -> None:
        # GasMeter.consume_gas inlined (minus its debug log): this runs once per opcode
        self._until_check -= 1
        if not self._until_check:
            self._until_check = CHECK_EVERY
            if time.monotonic() > self._deadline:
                raise ExecutionTimeout("execution timeout: the call ran past its time limit")
        if amount < 0:
            raise ValidationError("Gas consumption amount must be positive")
        if amount > self.gas_remaining:
            raise OutOfGas(f"Out of gas: Needed {amount} - Remaining {self.gas_remaining} - Reason: {reason}")
        self.gas_remaining -= amount


class _ReadComputation(CancunComputation):
    def _configure_gas_meter(self) -> GasMeter:
        meter = super()._configure_gas_meter()
        deadline = _DEADLINE.get()
        if deadline is None:
            return meter
        if time.monotonic() > deadline:  # every nested call starts with a look at the clock
            raise ExecutionTimeout("execution timeout: the call ran past its time limit")
        return _DeadlineGasMeter(meter, deadline)


class _ReadState(CancunState):
    computation_class = _ReadComputation


class _ReadCancunVM(CancunVM):
    _state_class = _ReadState


@functools.cache
def read_chain_class(chain_cls: type[OpsureChain]) -> type[OpsureChain]:
    """``chain_cls`` with a VM whose computations honour :func:`evm_deadline`."""
    return type(
        f"{chain_cls.__name__}Reads",
        (chain_cls,),
        {"vm_configuration": ((BlockNumber(0), _ReadCancunVM),)},
    )
