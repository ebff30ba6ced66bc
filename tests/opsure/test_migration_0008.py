"""Migration 0008: values sealed by the first format (v1) become row-bound v2 and read back equal."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Engine

import core.crypto
from core.audit import GENESIS_HASH, _entry_hash, append_audit, digest_input, verify_chain
from core.crypto import FieldKeys, current_field_keys, install_field_keys
from core.db import make_engine, make_session_factory
from ledger import service as ledger_service
from opsure.migrate import pending_drift, upgrade
from resolvers.policies.models import Customer, Endorsement, Policy, Quote
from tests.conftest import PG_URL
from tests.sealing import seal_v1

LEGACY_DATA_KEY, LEGACY_INDEX_KEY = os.urandom(32), os.urandom(32)
NOW = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)
PERSON = {"name": "王小明", "id_number": "110101199003077777", "phone": "+8613800138000",
          "email": "wang@example.cn", "birth_date": "1990-03-07"}


@pytest.fixture
def blank_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own (a separate schema on PostgreSQL)."""
    if PG_URL:
        schema = "privacy_m0008"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}")
        yield engine
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'm0008.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def no_field_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that installed no field keys (the suite's keys come back afterwards)."""
    monkeypatch.setattr(core.crypto, "_keys", None)


@pytest.fixture
def legacy_keys() -> Iterator[FieldKeys]:
    """The keyring an upgraded deployment loads from its single-key field.key: key 1."""
    before = current_field_keys() if core.crypto.field_keys_installed() else None
    keys = FieldKeys.parse((LEGACY_DATA_KEY + LEGACY_INDEX_KEY).hex())
    install_field_keys(keys)
    yield keys
    if before is not None:
        install_field_keys(before)


def _v1(value: str, context: str) -> str:
    return seal_v1(LEGACY_DATA_KEY, value, context)


def _insert(conn: sa.Connection, table: str, **values: Any) -> int:
    t = sa.Table(table, sa.MetaData(), autoload_with=conn)  # the table as revision 0007 left it
    return int(conn.execute(sa.insert(t).values(**values).returning(t.c.id)).scalar_one())


def _old_rows(engine: Engine) -> dict[str, int]:
    """Rows as revision 0007 held them: every personal field sealed v1 (column-bound only)."""
    common = {"version": 1, "created_at": NOW, "updated_at": NOW}
    with engine.begin() as conn:
        product = _insert(conn, "product", code="P-OLD", name="Old", description="", annual_limit=Decimal(100000),
                          deductible=Decimal(500), copay_rate=Decimal("0.1"), waiting_period_days=30,
                          cooling_off_days=15, term_months=12, min_age=0, max_age=65, active=True, **common)
        customer = _insert(conn, "customer", **{k: _v1(v, f"customer.{k}") for k, v in PERSON.items()},
                           id_number_bidx=secrets.token_hex(32), birth_year=1990, gender="male", city="杭州", **common)
        declaration = json.dumps([{"code": "smoker", "yes": False}])
        quote = _insert(conn, "quote", customer_id=customer, product_id=product, start_date=dt.date(2026, 5, 1),
                        insured_age=36, premium=Decimal(600), status="bound", valid_until=dt.date(2026, 5, 31),
                        declaration=_v1(declaration, "quote.declaration"), outcome="accept", exclusions=[],
                        reasons=[], **common)
        policy = _insert(conn, "policy", number="POL-OLD-1", customer_id=customer, product_id=product, quote_id=quote,
                         status="active", period_start=dt.date(2026, 5, 1), period_end=dt.date(2027, 4, 30),
                         issued_at=NOW, premium=Decimal(600), insured_age=36, exclusions=[],
                         contact_phone=_v1("+8613900139000", "policy.contact_phone"),
                         beneficiary_name=_v1("王大明", "policy.beneficiary_name"), **common)
        endorsement = _insert(conn, "endorsement", policy_id=policy, kind="contact",
                              changes=_v1('{"phone": "+8613900139000"}', "endorsement.changes"),
                              effective_on=dt.date(2026, 5, 2), requested_by="old-agent",
                              created_at=NOW, updated_at=NOW)
        body = '{"documentType":"invoice","issuedOn":"2026-05-01","provider":"H"}'
        record = _insert(conn, "ledger_record", kind=1, body=_v1(body, "ledger_record.body"),
                         salt=_v1("ab" * 32, "ledger_record.salt"), commitment="0x" + "cd" * 32, status="pending",
                         created_at=NOW, version=1)
        content = {"seq": 1, "at": NOW.isoformat(), "actor": "old", "role": "admin", "action": "createCustomer",
                   "target": None, "outcome": "ok", "input": "ee" * 32}
        _insert(conn, "audit_entry", **{k: v for k, v in content.items() if k not in ("input", "at")}, at=NOW,
                input_digest="ee" * 32, prev_hash=GENESIS_HASH, hash=_entry_hash(GENESIS_HASH, content))
    return {"customer": customer, "quote": quote, "policy": policy, "endorsement": endorsement, "record": record}


def test_v1_rows_migrate_to_row_bound_v2_and_read_back_equal(blank_engine: Engine, legacy_keys: FieldKeys) -> None:
    upgrade(blank_engine, "0007")
    ids = _old_rows(blank_engine)
    upgrade(blank_engine)
    assert pending_drift(blank_engine) == []

    with blank_engine.connect() as conn:
        raw = conn.execute(text("SELECT name, id_number, phone, email, birth_date, row_uid FROM customer")).one()
        assert all(v.startswith("v2:1:") for v in raw[:5]) and len(raw.row_uid) == 32
        uids = {t: conn.execute(text(f"SELECT count(DISTINCT row_uid) FROM {t}")).scalar_one()
                for t in ("customer", "quote", "policy", "endorsement")}
        assert uids == {"customer": 1, "quote": 1, "policy": 1, "endorsement": 1}
    with make_session_factory(blank_engine)() as s:
        customer = s.get(Customer, ids["customer"])
        assert {k: getattr(customer, k) for k in PERSON} == PERSON
        assert json.loads(s.get(Quote, ids["quote"]).declaration) == [{"code": "smoker", "yes": False}]
        policy = s.get(Policy, ids["policy"])
        assert (policy.contact_phone, policy.beneficiary_name, policy.contact_email) == ("+8613900139000", "王大明", None)
        assert s.get(Endorsement, ids["endorsement"]).changes == '{"phone": "+8613900139000"}'
        rec = ledger_service.get_record(s, record_id=ids["record"])
        assert (rec.body, rec.salt) == ('{"documentType":"invoice","issuedOn":"2026-05-01","provider":"H"}', "ab" * 32)
        # the audit chain written before keeps verifying, and grows with keyed digests
        assert verify_chain(s) is None
        append_audit(s, actor="new", role="admin", action="x", input_digest=digest_input({"idNumber": "1"}))
        s.commit()
        assert verify_chain(s) is None
        algs = s.execute(text("SELECT input_digest_alg FROM audit_entry ORDER BY seq")).scalars().all()
        assert algs == ["sha256", "hmac-sha256"]


def test_without_field_keys_the_migration_refuses_clearly(blank_engine: Engine, legacy_keys: FieldKeys,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(blank_engine, "0007")
    _old_rows(blank_engine)
    monkeypatch.setattr(core.crypto, "_keys", None)
    with pytest.raises(RuntimeError, match="needs the field keys"):
        upgrade(blank_engine)
    with blank_engine.connect() as conn:  # nothing half-done: still at 0007 with the v1 values
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0007"
        assert conn.execute(text("SELECT phone FROM customer")).scalar_one().startswith("v1:")


def test_an_empty_database_migrates_without_keys(blank_engine: Engine, no_field_keys: None) -> None:
    upgrade(blank_engine)
    assert pending_drift(blank_engine) == []
