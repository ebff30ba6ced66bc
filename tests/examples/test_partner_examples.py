"""The partner examples run as a partner runs them, against the app served on loopback.

The app is served by uvicorn in a thread with the embedded ledger and its in-process
anchoring thread (as ``opsure serve``). An assessor firm is set up through the services
(registered by an agent, reviewed and approved by a manager, a signer key, client
credentials, a survey assignment). ``examples/partner_python.py`` runs on this venv;
``examples/partner_node.mjs`` runs as a partner would have it: copied beside
``examples/package.json`` and a ``node_modules`` holding exactly those packages (the ones
``make npm`` installs under contracts/). Each logs in, signs, submits, waits for the anchor
and verifies; then both verifiers meet bundles that must fail.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from eth_account import Account

from core.auth import Role, issue_token
from core.db import transaction
from ledger.merkle import leaf_hash
from opsure.app import create_app
from opsure.runtime import Runtime
from partners import credentials, ledger_seam, signed_records
from partners.models import AssignmentKind, PartnerKind
from tests import npm_tools
from tests.partner_factories import (
    CHECKER,
    make_assignment,
    make_key,
    make_partner,
    partner_principal,
    sign,
    survey_message,
)

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SEEDED = 4  # records anchored in one batch before the examples run: a bundle with a proof of 2 steps
LEDGER = """query($c: String) { ledgerRecords(commitment: $c) { edges { node { status kind
  proofBundle { proof document } } } } }"""
MINE = "{ signedRecords(last: 100) { edges { node { commitment signer proof { status } } } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Firm:
    """An approved assessor firm as its operator knows it, and what the test seeded for it."""

    base_url: str
    partner_id: int
    client_id: str
    client_secret: str
    key_file: Path
    address: str
    case: str
    seeded: list[str]  # commitments of records signed before the examples run

    def cli(self) -> list[str]:
        """The examples' command-line settings."""
        return ["--base-url", self.base_url, "--client-id", self.client_id, "--client-secret", self.client_secret,
                "--signer-key-file", str(self.key_file), "--case", self.case, "--timeout", "45"]


@pytest.fixture
def served(runtime: Runtime) -> Iterator[str]:
    """The app with the embedded ledger and the in-process anchoring thread, on loopback."""
    runtime.settings = runtime.settings.with_(ledger_mode="embedded", anchoring_in_process=True)
    server = uvicorn.Server(uvicorn.Config(create_app(runtime.settings, runtime), host="127.0.0.1",
                                           port=_free_port(), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the app did not start"
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def firm(served: str, runtime: Runtime, tmp_path: Path) -> Firm:
    """An approved assessor firm with a signer key, client credentials and a survey assignment."""
    now = dt.datetime.now(dt.UTC)
    signer = Account.create()
    with transaction(runtime.session_factory) as s:
        partner = make_partner(s, kind=PartnerKind.ASSESSOR_FIRM, now=now)
        make_key(s, partner, account=signer, now=now)
        client, secret = credentials.create_client(s, principal=CHECKER, partner_id=partner.id,
                                                   label="survey system", now=now)
        assignment = make_assignment(s, partner, kind=AssignmentKind.SURVEY, now=now)
        domain = ledger_seam.signing_domain(s, runtime.settings)
        seeded = []
        for _ in range(SEEDED):  # earlier surveys of the firm, anchored together in one batch
            payload, signature = sign(signer, "SurveyReport", survey_message(assignment, signer.address), domain)
            seeded.append(signed_records.submit_signed_record(
                s, principal=partner_principal(partner), domain=domain, typed_data=payload, signature=signature,
                now=now).commitment)
        ids = partner.id, client.client_id, assignment.case_reference
    key_file = tmp_path / "assessor.key"
    key_file.write_text("0x" + bytes(signer.key).hex() + "\n")
    key_file.chmod(0o600)
    return Firm(served, ids[0], ids[1], secret, key_file, signer.address.lower(), ids[2], seeded)


def _graphql(firm: Firm, runtime: Runtime, role: Role, query: str, variables: dict[str, Any] | None = None) -> Any:
    token = issue_token(runtime.token_keys, runtime.settings, subject="examples-test", role=role,
                        partner_id=firm.partner_id if role is Role.PARTNER else None)
    resp = httpx.post(f"{firm.base_url}/graphql", json={"query": query, "variables": variables or {}},
                      headers={"authorization": f"Bearer {token}"}, timeout=30)
    body = resp.json()
    assert "errors" not in body, body
    return body["data"]


def _anchored_bundle(firm: Firm, runtime: Runtime, commitment: str) -> dict[str, Any]:
    """The auditor's view of the ledger record with ``commitment``, once anchored."""
    deadline = time.monotonic() + 30
    while True:
        edges = _graphql(firm, runtime, Role.AUDITOR, LEDGER, {"c": commitment})["ledgerRecords"]["edges"]
        if edges and edges[0]["node"]["status"] == "ANCHORED":
            node = edges[0]["node"]
            assert node["kind"] == "SURVEY"
            bundle: dict[str, Any] = json.loads(node["proofBundle"]["document"])
            return bundle
        assert time.monotonic() < deadline, f"{commitment} was not anchored: {edges}"
        time.sleep(0.5)


def run_python(args: list[str]) -> subprocess.CompletedProcess[str]:
    """examples/partner_python.py with ``args`` (this venv has its requirements)."""
    return subprocess.run([sys.executable, str(EXAMPLES / "partner_python.py"), *args], capture_output=True,
                          text=True, timeout=90, cwd=REPO)


def run_node(args: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """examples/partner_node.mjs copied to ``workdir`` beside its package.json and node_modules."""
    for name in ("ethers", "@openzeppelin/merkle-tree"):
        npm_tools.package(name)
    workdir.mkdir(exist_ok=True)
    for name in ("partner_node.mjs", "package.json"):
        shutil.copyfile(EXAMPLES / name, workdir / name)
    if not (workdir / "node_modules").exists():
        (workdir / "node_modules").symlink_to(npm_tools.NODE_MODULES, target_is_directory=True)
    return subprocess.run([npm_tools.node(), str(workdir / "partner_node.mjs"), *args], capture_output=True,
                          text=True, timeout=90, cwd=workdir)


def _runs_through(done: subprocess.CompletedProcess[str], firm: Firm, runtime: Runtime, bundle_file: Path) -> None:
    """The example printed every step and VERIFIED; its record is the firm's, anchored on chain."""
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line[:3] for line in lines if line.startswith("[")] == ["[1]", "[2]", "[3]", "[4]", "[5]", "[6]"]
    assert lines[-1] == "verdict: VERIFIED"
    assert f"case {firm.case}" in done.stdout and "AnchorRegistry.verify(proof, root, leaf) = true" in done.stdout
    bundle = json.loads(bundle_file.read_text())
    commitment = bundle["commitment"]
    assert commitment not in firm.seeded
    assert _anchored_bundle(firm, runtime, commitment) == bundle  # the auditor's bundle is the partner's
    mine = {e["node"]["commitment"]: e["node"] for e in _graphql(firm, runtime, Role.PARTNER, MINE)
            ["signedRecords"]["edges"]}
    assert mine[commitment]["signer"] == firm.address and mine[commitment]["proof"]["status"] == "ANCHORED"


def test_the_python_example_signs_submits_and_verifies(firm: Firm, runtime: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    _runs_through(run_python([*firm.cli(), "--bundle-out", str(out)]), firm, runtime, out)


@pytest.mark.npm
def test_the_node_example_signs_submits_and_verifies(firm: Firm, runtime: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    _runs_through(run_node([*firm.cli(), "--bundle-out", str(out)], tmp_path / "partner"), firm, runtime, out)


def _tampered(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Bundles that must fail: a proof step changed; a forged one-leaf tree never anchored."""
    step = {**bundle, "proof": [bundle["proof"][0][:-2] + ("00" if bundle["proof"][0][-2:] != "00" else "01"),
                                *bundle["proof"][1:]]}
    forged_value = ["0x" + "c0" * 32, bundle["value"][1]]
    forged = {**bundle, "value": forged_value, "commitment": forged_value[0], "proof": [],
              "root": "0x" + leaf_hash(bundle["leafEncoding"], forged_value).hex()}
    return {"proof step": step, "unanchored root": forged}


@pytest.mark.npm
def test_both_verifiers_hold_a_real_proof_and_refuse_tampered_ones(
    firm: Firm, runtime: Runtime, tmp_path: Path
) -> None:
    bundle = _anchored_bundle(firm, runtime, firm.seeded[1])
    assert len(bundle["proof"]) == 2 and bundle["leafCount"] == SEEDED
    cases = {"genuine": bundle, **_tampered(bundle)}
    for name, case in cases.items():
        path = tmp_path / f"{name.replace(' ', '-')}.json"
        path.write_text(json.dumps(case, indent=2))
        args = ["--base-url", firm.base_url, "--verify-bundle", str(path)]
        for example, done in (("python", run_python(args)), ("node", run_node(args, tmp_path / "partner"))):
            last = done.stdout.splitlines()[-1] if done.stdout else done.stderr
            if name == "genuine":
                assert done.returncode == 0 and last == "verdict: VERIFIED", (example, done.stdout, done.stderr)
                continue
            assert done.returncode == 1 and last.startswith("verdict: NOT VERIFIED"), (example, name, done.stdout,
                                                                                       done.stderr)
            if name == "proof step":  # the Merkle proof fails off chain and in the registry's own check
                assert "Merkle proof" in last and "verify(proof, root, leaf) says no" in last, (example, last)
            else:  # a self-consistent tree: only the chain can tell it was never anchored
                assert "Merkle proof" not in last and "anchored at block 0" in last, (example, last)


def test_the_node_example_needs_only_the_packages_the_project_installs() -> None:
    wanted = json.loads((EXAMPLES / "package.json").read_text())["dependencies"]
    installed = json.loads((REPO / "contracts" / "package.json").read_text())["dependencies"]
    assert wanted and all(installed.get(name) == version for name, version in wanted.items()), (wanted, installed)
