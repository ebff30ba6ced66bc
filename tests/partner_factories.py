"""Partner factories: registry rows through the services, and signed EIP-712 records."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from partners import assignments, keys, review
from partners import service as registry
from partners.eip712 import HALF_N, SECP256K1_N, Domain, typed_data
from partners.models import Assignment, AssignmentKind, Partner, PartnerKind, SignerKey

MAKER = Principal(subject="maker-agent", role=Role.AGENT)
CHECKER = Principal(subject="checker-manager", role=Role.MANAGER)
ADJUSTER = Principal(subject="adjuster-1", role=Role.ADJUSTER)
NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
DOMAIN = Domain(chain_id=1337, verifying_contract="0x" + "5a" * 20)
DEADLINE = 4102444800  # 2100-01-01: far enough for tests that run on the real clock (GraphQL)
_seq = itertools.count(1)

_KIND_FOR = {
    AssignmentKind.SURVEY: PartnerKind.ASSESSOR_FIRM,
    AssignmentKind.HOSPITAL_BILL: PartnerKind.HOSPITAL,
    AssignmentKind.CREDIT_REPORT: PartnerKind.CREDIT_PROVIDER,
}


def partner_principal(partner: Partner | int) -> Principal:
    """A partner token's principal for ``partner``."""
    pid = partner if isinstance(partner, int) else partner.id
    return Principal(subject=f"partner-client:test-{pid}", role=Role.PARTNER, partner_id=pid)


def licence(until: dt.date = dt.date(2099, 12, 31)) -> registry.LicenceSpec:
    """A licence valid from 2025 until ``until``."""
    return registry.LicenceSpec(f"LIC-{next(_seq)}", "NFRA", dt.date(2025, 1, 1), until)


def make_partner(
    session: Session,
    *,
    kind: PartnerKind = PartnerKind.ASSESSOR_FIRM,
    approved: bool = True,
    licence_until: dt.date = dt.date(2099, 12, 31),
    now: dt.datetime = NOW,
    **over: Any,
) -> Partner:
    """A partner submitted by MAKER and (by default) reviewed and approved by CHECKER."""
    args: dict[str, Any] = dict(code=f"P-{next(_seq)}", name="Test Partner", kind=kind,
                                licences=[licence(licence_until)])
    args.update(over)
    partner = registry.register_partner(session, principal=MAKER, now=now, **args)
    if approved:
        review.start_review(session, principal=CHECKER, partner_id=partner.id, now=now)
        review.approve(session, principal=CHECKER, partner_id=partner.id, now=now)
    return partner


def make_key(
    session: Session, partner: Partner, *, account: LocalAccount | None = None, now: dt.datetime = NOW, **over: Any
) -> tuple[SignerKey, LocalAccount]:
    """A registered signer key (and its account) of ``partner``."""
    acct: LocalAccount = account or Account.create()
    key = keys.register_key(session, principal=CHECKER, partner_id=partner.id, address=acct.address, now=now, **over)
    return key, acct


def make_assignment(
    session: Session,
    partner: Partner,
    *,
    kind: AssignmentKind = AssignmentKind.SURVEY,
    case_reference: str | None = None,
    investigation_id: int | None = None,
    now: dt.datetime = NOW,
) -> Assignment:
    """An assignment of ``partner`` (a survey gets a fresh investigation id)."""
    if kind is AssignmentKind.SURVEY and investigation_id is None:
        investigation_id = 10_000 + next(_seq)
    return assignments.create_assignment(
        session, principal=ADJUSTER, partner_id=partner.id, kind=kind,
        case_reference=case_reference or f"CASE-{next(_seq)}", investigation_id=investigation_id, now=now)


def survey_message(assignment: Assignment, signer: str, *, nonce: int | None = None, **over: Any) -> dict[str, Any]:
    """A SurveyReport message for a survey assignment."""
    msg: dict[str, Any] = {
        "investigationId": assignment.investigation_id,
        "caseReference": assignment.case_reference,
        "findingsCommitment": "0x" + secrets.token_bytes(32).hex(),
        "conclusionCode": 2,
        "assessor": signer,
        "nonce": nonce if nonce is not None else next(_seq),
        "deadline": DEADLINE,
    }
    msg.update(over)
    return msg


def bill_message(assignment: Assignment, signer: str, *, nonce: int | None = None, **over: Any) -> dict[str, Any]:
    """A HospitalBill message for a hospital-bill assignment."""
    msg: dict[str, Any] = {
        "caseReference": assignment.case_reference,
        "billNumber": f"B-{next(_seq)}",
        "amountFen": 1234567,
        "itemsCommitment": "0x" + secrets.token_bytes(32).hex(),
        "issuedOn": "2026-05-20",
        "hospital": signer,
        "nonce": nonce if nonce is not None else next(_seq),
        "deadline": DEADLINE,
    }
    msg.update(over)
    return msg


def credit_message(assignment: Assignment, signer: str, *, nonce: int | None = None, **over: Any) -> dict[str, Any]:
    """A CreditReport message for a credit-report assignment."""
    msg: dict[str, Any] = {
        "caseReference": assignment.case_reference,
        "reportReference": f"R-{next(_seq)}",
        "scoreBand": 3,
        "reportCommitment": "0x" + secrets.token_bytes(32).hex(),
        "issuedOn": "2026-05-21",
        "bureau": signer,
        "nonce": nonce if nonce is not None else next(_seq),
        "deadline": DEADLINE,
    }
    msg.update(over)
    return msg


def sign(
    account: LocalAccount, primary_type: str, message: dict[str, Any], domain: Domain = DOMAIN
) -> tuple[dict[str, Any], str]:
    """The typed data and eth-account's signature of it (0x r‖s‖v, v in 27/28)."""
    payload = typed_data(primary_type, message, domain)
    signed = account.sign_message(encode_typed_data(full_message=payload))
    return payload, "0x" + bytes(signed.signature).hex()


def high_s(signature: str) -> str:
    """The malleated twin of a low-s signature: s -> n - s, v flipped (recovers the same)."""
    raw = bytes.fromhex(signature.removeprefix("0x"))
    s = int.from_bytes(raw[32:64], "big")
    assert s <= HALF_N
    v = 27 if raw[64] == 28 else 28
    return "0x" + (raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([v])).hex()


class WebhookReceiver:
    """A real HTTP receiver on 127.0.0.1 (uvicorn in a thread) recording what it is sent.

    ``statuses`` is the queue of status codes to answer with (then 200).
    """

    def __init__(self) -> None:
        import collections
        import threading

        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.statuses: collections.deque[int] = collections.deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.server: Any = None
        self.port = 0

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self._lock:
            self.calls.append((headers, body))
            status = self.statuses.popleft() if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    @property
    def url(self) -> str:
        """The receiver's URL."""
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> WebhookReceiver:
        """Serve on a free loopback port until :meth:`stop`."""
        import socket
        import threading
        import time

        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off",
                                interface="asgi3")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("webhook receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut the server down."""
        if self.server is not None:
            self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
