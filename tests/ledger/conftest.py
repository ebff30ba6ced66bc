"""Fixtures for the ledger tests: an in-memory py-evm chain, a deployed AnchorRegistry, and a
database with anchored records (``anchored``)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from core.db import transaction
from ledger import service
from ledger.anchoring import anchor_pending, open_chain
from ledger.chain_client import ChainClient
from ledger.commitments import TenantKey, install_tenant_key
from ledger.contract import RecordKind, abi, bytecode


def _make_web3(vm_configuration: Any = None) -> Web3:
    """Return a Web3 on a fresh eth-tester py-evm chain (optionally a given VM schedule)."""
    backend = PyEVMBackend(vm_configuration=vm_configuration)
    return Web3(EthereumTesterProvider(EthereumTester(backend)))


def _deploy_registry(w3: Web3, admin: str) -> Any:
    """Deploy AnchorRegistry(admin) from ``admin`` and return the contract object."""
    factory = w3.eth.contract(abi=abi(), bytecode=bytecode())
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(admin).transact({"from": admin})
    )
    assert receipt["status"] == 1
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi())


def _revert_data(exc: BaseException) -> bytes:
    """Extract the raw revert data from an eth-tester / web3 revert exception."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, bytes):
        return data
    message = str(exc.args[0]) if exc.args else str(exc)
    prefix = "execution reverted: "
    if message.startswith(prefix):
        literal = message[len(prefix) :]
        if literal.startswith(("b'", 'b"')):
            value = ast.literal_eval(literal)
            assert isinstance(value, bytes)
            return value
        if literal.startswith("0x"):
            return bytes.fromhex(literal[2:])
    raise AssertionError(f"no revert data in {exc!r}")


@pytest.fixture(scope="module")
def w3() -> Iterator[Web3]:
    """A Web3 connected to a fresh in-memory py-evm chain (one per test module)."""
    yield _make_web3()


@pytest.fixture
def registry(w3: Web3) -> Any:
    """A freshly deployed AnchorRegistry administered by account 0."""
    return _deploy_registry(w3, w3.eth.accounts[0])


@pytest.fixture
def make_web3() -> Callable[..., Web3]:
    """Factory: ``make_web3(vm_configuration=None)`` -> Web3 on a fresh py-evm chain."""
    return _make_web3


@pytest.fixture
def deploy_registry() -> Callable[[Web3, str], Any]:
    """Factory: ``deploy_registry(w3, admin)`` -> deployed AnchorRegistry contract."""
    return _deploy_registry


@pytest.fixture
def revert_data() -> Callable[[BaseException], bytes]:
    """Function extracting raw revert data from a revert exception."""
    return _revert_data


@pytest.fixture
def tenant_key() -> Iterator[TenantKey]:
    """A fresh tenant key installed for the test (records commit under it)."""
    key = TenantKey.generate()
    install_tenant_key(key)
    yield key
    install_tenant_key(None)


@pytest.fixture
def anchored(settings: Any, session_factory: Any, tenant_key: TenantKey) -> tuple[ChainClient, list[int]]:
    """A chain with two anchored batches (9 surveys, then 3 medical) and one pending credit record."""
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    acct: LocalAccount = Account.create()
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": acct.address, "value": Web3.to_wei(1000, "ether")}))
    chain = open_chain(settings, session_factory, target=w3, account=acct)
    with transaction(session_factory) as s:
        ids = service.record_many(s, kind=RecordKind.SURVEY, bodies=[
            {"assessor": f"A-{i}", "conclusion": "ok", "surveyedOn": "2026-05-02"} for i in range(9)])
        ids += service.record_many(s, kind=RecordKind.MEDICAL, bodies=[
            {"documentType": "invoice", "provider": f"H-{i}", "issuedOn": "2026-05-01"} for i in range(3)])
    assert anchor_pending(session_factory, chain, max_age=0).records == 12
    with transaction(session_factory) as s:
        ids.append(service.record(s, kind=RecordKind.CREDIT,
                                  body={"bureau": "B", "reportRef": "R", "issuedOn": "2026-01-01"}).id)
    return chain, ids
