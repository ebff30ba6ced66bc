"""``opsure demo``: load the whole platform once, anchor it, hand out credentials, print a summary.

The load is one transaction: policies, partners, claims, risk flags and their audit entries
all commit, or none do (a document object stored before a failure is left for
``opsure claim-documents sweep``). The demo loads once per data directory: a second run
refuses (:class:`DemoAlreadyLoaded`) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from pathlib import Path

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now as current_instant
from core.db import transaction
from core.errors import DomainError
from core.event_stream import drain
from opsure.demo.advances import load_advances
from opsure.demo.analytics import load_analytics
from opsure.demo.anchoring import settle_ledger
from opsure.demo.claims import load_claims
from opsure.demo.claims_ops import load_claims_ops
from opsure.demo.clock import DemoClock
from opsure.demo.handouts import Handouts, demo_dir, partner_handout, showcase_handout, write_handouts
from opsure.demo.investigations import load_investigations
from opsure.demo.knowledge import load_knowledge
from opsure.demo.operations import load_experiments, load_visitors
from opsure.demo.partners import PARTNER_SPECS, load_partners
from opsure.demo.payments import open_accounts, play_the_bank
from opsure.demo.policies import load_policies
from opsure.demo.risk import load_risk_flags
from opsure.demo.service import load_service
from opsure.demo.summary import DemoSummary, collect_summary
from opsure.demo.tags import load_tags
from opsure.ledger_host import LedgerHost
from opsure.runtime import Runtime
from partners import ledger_seam
from partners.models import Partner
from partners.risk import consortium_key
from resolvers.claims.storage import document_storage
from resolvers.operations.platform_events import BEHAVIOUR_CONSUMER

__all__ = ["DemoAlreadyLoaded", "DemoResult", "load_platform_demo", "run_demo"]

#: Background claims per customer of the policy history.
CLAIMS_PER_CUSTOMER = 0.1


class DemoAlreadyLoaded(DomainError):
    """The demo was loaded into this data directory (or database) before."""

    code = "DEMO_ALREADY_LOADED"


@dataclass(frozen=True)
class DemoResult:
    """What a demo run did: counts, the handout files, how the ledger settled."""

    summary: DemoSummary
    partners_file: Path
    showcase_file: Path


def _refuse_if_loaded(session: Session, data_dir: Path) -> None:
    marker = demo_dir(data_dir) / "partners.json"
    if marker.exists():
        raise DemoAlreadyLoaded(f"the demo was loaded into this data directory already ({marker} exists); it loads "
                                "once: start from a fresh OPSURE_DATA_DIR to load it again")
    code = PARTNER_SPECS[0].code
    if session.scalar(select(Partner.id).where(Partner.code == code)) is not None:
        raise DemoAlreadyLoaded(f"the demo was loaded into this database already (partner {code} exists); it loads "
                                "once: use a fresh database to load it again")


def load_platform_demo(
    runtime: Runtime, *, customers: int = 500, years: int = 2, seed: int = 7, now: dt.datetime | None = None,
) -> Handouts:
    """Everything the demo shows, in one transaction; returns the handouts to write."""
    settings = runtime.settings
    clock = DemoClock(now or current_instant())
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    consortium = consortium_key(settings.keys_dir)
    with transaction(runtime.session_factory) as s:
        _refuse_if_loaded(s, settings.data_dir)
        domain = ledger_seam.signing_domain(s, settings)  # before anything: LEDGER_NOT_READY without a ledger
        load_policies(s, rng, clock, fake=fake, customers=customers, years=years, seed=seed)
        partners = load_partners(s, clock, seed=seed)
        open_accounts(s, partners=partners)
        claims = load_claims(s, rng, clock, fake=fake, settings=settings, storage=document_storage(settings.data_dir),
                             consortium=consortium, partners=partners,
                             background=round(customers * CLAIMS_PER_CUSTOMER))
        load_investigations(s, rng, clock, fake=fake, settings=settings, storage=document_storage(settings.data_dir),
                            consortium=consortium, partners=partners, domain=domain, seed=seed,
                            keep={c.id for c in claims.showcase.values()})
        play_the_bank(s, clock, settings.data_dir)  # payouts settle: the paid claims become PAID
        load_advances(s, clock, settings=settings, storage=document_storage(settings.data_dir),
                      consortium=consortium, seed=seed, partners=partners)
        load_risk_flags(s, rng, clock, insurer=partners["insurer"], consortium=consortium)
        load_claims_ops(s, rng, clock)  # two rule versions, QA samples of the decided claims
        load_experiments(s, rng, clock)  # a finished experiment with results; the claim switch for QA
        load_visitors(s, rng, clock)  # anonymous visitors, one signs in (identify) and is on their phone too (alias)
        load_tags(s, rng, clock)  # behaviour, tags, value tiers, a segment and a finished Double 11 campaign
        load_knowledge(s, clock)  # articles approved by QA, the coverage graph of MEDI-BASIC
        load_service(s, rng, clock)  # agents, work orders in every state, a breached SLA, complaints
        load_analytics(s, now=clock.now, consortium=consortium)  # rollups, alerts, reports, the risk robot
        s.flush()
        return Handouts(partners=partner_handout(partners, domain, seed), showcase=showcase_handout(claims))


def run_demo(runtime: Runtime, *, customers: int = 500, years: int = 2, seed: int = 7,
             wait: float = 120.0) -> DemoResult:
    """Load the demo, write its handouts, anchor everything; the summary is read back from the store."""
    started = time.monotonic()
    host = LedgerHost(runtime)
    try:
        host.start()  # deploys the registry on first use, so a signing domain exists
        if host.mode == "external":
            host.chain()
        handouts = load_platform_demo(runtime, customers=customers, years=years, seed=seed)
        drain(runtime.session_factory, BEHAVIOUR_CONSUMER)  # the platform's flows as behaviour events
        partners_file, showcase_file = write_handouts(runtime.settings.data_dir, handouts)
        note = settle_ledger(host, runtime, timeout=wait)
    finally:
        host.close()
    with runtime.session_factory() as s:
        summary = collect_summary(s)
    summary.seconds = time.monotonic() - started
    summary.notes += [f"ledger: {note}", f"demo credentials (mode 0600): {partners_file}",
                      f"showcase claims and records: {showcase_file}"]
    return DemoResult(summary=summary, partners_file=partners_file, showcase_file=showcase_file)
