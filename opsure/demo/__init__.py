"""The demo: the whole platform as a newcomer first meets it (``opsure demo``).

One module per job, each a function of a session, a seeded ``random.Random`` and a
:class:`~opsure.demo.clock.DemoClock` (plus what it needs by name), all through the real
services:

* :mod:`~opsure.demo.policies` — products, customers, two years of policy history;
* :mod:`~opsure.demo.partners` — partners of every kind through maker-checker review, signer
  keys (from the seed) and client credentials;
* :mod:`~opsure.demo.claims` — claims in every state, documents, signed survey and hospital
  bill, a credit report, each step taken at the claims desk (:mod:`~opsure.demo.desk`);
* :mod:`~opsure.demo.risk` — shared risk flags;
* :mod:`~opsure.demo.run` — one transaction for all of it, the handouts
  (:mod:`~opsure.demo.handouts`), anchoring (:mod:`~opsure.demo.anchoring`) and the summary
  (:mod:`~opsure.demo.summary`).

A later domain extends the demo with its own module and a line in
:func:`~opsure.demo.run.load_platform_demo`.
"""

from __future__ import annotations

import datetime as dt
import random

from faker import Faker

from core.clock import business_today
from core.db import transaction
from opsure.demo.clock import DemoClock
from opsure.demo.policies import DEMO_PRODUCTS, load_policies
from opsure.demo.run import DemoAlreadyLoaded, DemoResult, load_platform_demo, run_demo
from opsure.runtime import Runtime

__all__ = ["DEMO_PRODUCTS", "DemoAlreadyLoaded", "DemoResult", "load_demo", "load_platform_demo", "run_demo"]


def load_demo(
    runtime: Runtime, *, customers: int = 500, years: int = 2, seed: int = 7, today: dt.date | None = None
) -> dict[str, int]:
    """Products, customers and policy history only (no ledger needed), added on every call.

    The data set benchmarks and ledger tests build on; ``opsure demo`` loads the whole
    platform with :func:`run_demo`.
    """
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    clock = DemoClock.on(today or business_today())
    with transaction(runtime.session_factory) as s:
        return load_policies(s, rng, clock, fake=fake, customers=customers, years=years, seed=seed)
