"""Field encryption at rest: sealed in the database, bound to its column and its row, under key ids."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, text, update
from sqlalchemy.exc import StatementError

from core.crypto import (
    FieldKeys,
    SealingError,
    UnknownFieldKeyError,
    current_field_keys,
    install_field_keys,
    key_id_of,
    write_keyring,
)
from core.db import transaction
from core.reencrypt import reencrypt, remaining_by_key, sealed_columns
from ledger import service as ledger_service
from opsure.models import metadata
from resolvers.policies import service as policy_service
from resolvers.policies.models import Customer, Policy
from tests.factories import ADMIN, make_customer, make_policy
from tests.sealing import seal_v1

TODAY = dt.date(2026, 6, 1)
CUSTOMER_FIELDS = ("name", "id_number", "phone", "email", "birth_date")


def _medical(ref: str) -> dict[str, str]:
    return {"documentType": "invoice", "provider": ref, "issuedOn": "2026-05-30"}


@pytest.fixture
def keyring(runtime: Any) -> Iterator[FieldKeys]:
    """The suite's keyring; whatever a test installs instead is undone afterwards."""
    keys = current_field_keys()
    yield keys
    install_field_keys(keys)


def test_seal_open_round_trip_with_column_and_row_binding() -> None:
    keys = FieldKeys.generate()
    sealed = keys.seal("110101199003077777", "customer.id_number", row="a1")
    assert sealed.startswith("v2:1:") and "1101011990" not in sealed and key_id_of(sealed) == 1
    assert keys.open(sealed, "customer.id_number", row="a1") == "110101199003077777"
    with pytest.raises(InvalidTag):
        keys.open(sealed, "customer.phone", row="a1")
    with pytest.raises(InvalidTag):
        keys.open(sealed, "customer.id_number", row="b2")
    with pytest.raises(InvalidTag):  # relabelling the key id only picks a key that does not open it
        keys.with_new_key().open(sealed.replace("v2:1:", "v2:2:"), "customer.id_number", row="a1")
    with pytest.raises(SealingError):
        keys.open("plaintext", "customer.id_number", row="a1")


def test_personal_fields_are_ciphertext_in_the_database(session_factory: Any) -> None:
    with session_factory() as s:
        c = make_customer(s, birth=dt.date(1985, 1, 2), name="王小明")
        s.commit()
        raw = s.execute(
            text("SELECT name, id_number, phone, birth_date, row_uid FROM customer WHERE id = :i"), {"i": c.id}
        ).one()
    assert all(v.startswith(f"v2:{current_field_keys().current}:") for v in raw[:4])
    assert "王小明" not in "".join(raw) and "19850102" not in "".join(raw) and len(raw.row_uid) == 32


def test_a_value_copied_to_another_row_does_not_decrypt(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        alice, bob = make_customer(s, name="Alice"), make_customer(s, name="Bob")
        ids = alice.id, bob.id
    with session_factory() as s:  # someone with write access to the database swaps in Alice's phone
        s.execute(text("UPDATE customer SET phone = (SELECT phone FROM customer WHERE id = :a) WHERE id = :b"),
                  {"a": ids[0], "b": ids[1]})
        s.commit()
    with session_factory() as s, pytest.raises(InvalidTag):
        s.get(Customer, ids[1])
    with session_factory() as s:
        assert s.get(Customer, ids[0]).name == "Alice"  # the original row still reads


def test_a_value_copied_to_another_column_does_not_decrypt(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        cid = make_customer(s).id
    with session_factory() as s:
        s.execute(text("UPDATE customer SET email = phone WHERE id = :i"), {"i": cid})
        s.commit()
    with session_factory() as s, pytest.raises(InvalidTag):
        s.get(Customer, cid)


def test_writes_without_the_row_are_refused_and_row_uid_never_changes(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c = make_customer(s)
    with session_factory() as s, pytest.raises(StatementError, match=r"customer\.phone written without its row"):
        s.execute(update(Customer).where(Customer.id == c.id).values(phone="13800000000"))
    with session_factory() as s:
        row = s.get(Customer, c.id)
        row.row_uid = "0" * 32
        with pytest.raises(SealingError):
            s.flush()


def test_updates_reseal_under_the_same_row_and_read_back(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c = make_customer(s, name="甲")
    with transaction(session_factory) as s:
        row = s.get(Customer, c.id)
        row.name = "乙"
        s.flush()
        assert type(row.name) is str and row.name == "乙"
    with session_factory() as s:
        assert s.scalar(select(Customer.name).where(Customer.id == c.id)) == "乙"


def test_legacy_single_key_file_is_key_one_and_v1_values_still_open(tmp_path: Path) -> None:
    data_key, index_key = os.urandom(32), os.urandom(32)
    (tmp_path / "field.key").write_text((data_key + index_key).hex() + "\n")
    keys = FieldKeys.load_or_create(tmp_path)
    assert list(keys.data_keys) == [1] and keys.current == 1 and keys.index_key == index_key
    old = seal_v1(data_key, "13800138000", "customer.phone")
    assert keys.open(old, "customer.phone", row="any row") == "13800138000"  # v1 bound the column only
    with pytest.raises(InvalidTag):
        keys.open(old, "customer.email")


def test_keyring_text_round_trips_and_refuses_nonsense(tmp_path: Path) -> None:
    keys = FieldKeys.generate().with_new_key()
    assert FieldKeys.parse(keys.dump()) == keys == FieldKeys.parse(keys.dump(one_line=True))
    path = write_keyring(tmp_path, keys)
    assert FieldKeys.load_or_create(tmp_path) == keys and path.stat().st_mode & 0o777 == 0o600
    assert keys.data_keys[2].hex() not in repr(keys)
    for bad in ("", "index=00", "1=zz;index=" + "00" * 32, "mystery=1;1=" + "00" * 32 + ";index=" + "00" * 32):
        with pytest.raises(ValueError):
            FieldKeys.parse(bad)
    with pytest.raises(ValueError):
        keys.without_key(keys.current)


def test_rotation_reencrypt_and_retirement(session_factory: Any, engine: Any, keyring: FieldKeys) -> None:
    with transaction(session_factory) as s:
        policy = make_policy(s, today=TODAY)
        policy_service.endorse_contact(s, principal=ADMIN, policy_id=policy.id, expected_version=None,
                                       phone="13900139000", email=None, today=TODAY)
        ledger_id = ledger_service.record(s, kind="MEDICAL", body=_medical("A-1")).id
        ledger_service.record_many(s, kind="MEDICAL", bodies=[_medical(f"B-{i}") for i in range(3)])
        ids = policy.id, policy.customer_id
    columns = sealed_columns(metadata)
    with engine.connect() as conn:
        before = remaining_by_key(conn, columns, [1, 2])
    assert set(before) == {"1"}

    rotated = keyring.with_new_key()  # key 2 becomes current; key 1 still opens
    install_field_keys(rotated)
    with transaction(session_factory) as s:
        fresh = make_customer(s).id
    with session_factory() as s:
        raw = s.execute(text("SELECT phone FROM customer WHERE id = :i"), {"i": fresh}).scalar_one()
        assert key_id_of(raw) == 2
        assert s.get(Customer, ids[1]).phone  # written under key 1, still read

    seen: list[tuple[str, int]] = []
    report = reencrypt(engine.begin, columns, keys=rotated, batch=2, progress=lambda c, n: seen.append((c, n)))
    assert report.failures == [] and report.total == sum(before.values())
    assert [n for c, n in seen if c == "ledger_record.body"] == [2, 4]  # batches of two, committed one by one
    with engine.connect() as conn:
        assert remaining_by_key(conn, columns, [1, 2]) == {"2": sum(before.values()) + len(CUSTOMER_FIELDS)}
    assert reencrypt(engine.begin, columns, keys=rotated).total == 0  # idempotent

    install_field_keys(rotated.without_key(1))  # key 1 retired: everything still reads
    with session_factory() as s:
        policy = s.get(Policy, ids[0])
        customer = s.get(Customer, ids[1])
        assert customer.name == "李伟" and customer.email == "li.wei@example.cn"
        assert policy.contact_phone == "+8613900139000" and policy.contact_email is None
        body = ledger_service.record_body(ledger_service.get_record(s, record_id=ledger_id))
        assert body == _medical("A-1")
        assert ledger_service.verify_record(s, record_id=ledger_id)
    with pytest.raises(UnknownFieldKeyError):
        rotated.without_key(1).open(keyring.seal("x", "c", row="r"), "c", row="r")


def test_reencrypt_resumes_after_an_interruption(session_factory: Any, engine: Any, keyring: FieldKeys) -> None:
    with transaction(session_factory) as s:
        for _ in range(5):
            make_customer(s)
    rotated = keyring.with_new_key()
    install_field_keys(rotated)
    columns = [c for c in sealed_columns(metadata) if c.table == "customer"]

    def crash(column: str, done: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reencrypt(engine.begin, columns, keys=rotated, batch=2, progress=crash)
    with engine.connect() as conn:
        partial = remaining_by_key(conn, columns, [1, 2])
    assert partial["2"] == 2 and partial["1"] == 5 * len(columns) - 2  # the first batch committed
    report = reencrypt(engine.begin, columns, keys=rotated, batch=2)
    assert report.total == 5 * len(columns) - 2 and report.failures == []


def test_a_tampered_value_is_reported_not_rewritten(session_factory: Any, engine: Any, keyring: FieldKeys) -> None:
    with transaction(session_factory) as s:
        a, b = make_customer(s).id, make_customer(s).id
    with engine.begin() as conn:
        conn.execute(text("UPDATE customer SET name = (SELECT name FROM customer WHERE id = :a) WHERE id = :b"),
                     {"a": a, "b": b})
    rotated = keyring.with_new_key()
    report = reencrypt(engine.begin, [c for c in sealed_columns(metadata) if c.table == "customer"], keys=rotated)
    assert report.failures == [("customer.name", b, "InvalidTag")]


def test_blind_index_is_deterministic_and_keyed() -> None:
    a, b = FieldKeys.generate(), FieldKeys.generate()
    assert a.index("x", "c") == a.index("x", "c") != b.index("x", "c")
    assert a.index("x", "c") != a.index("x", "d")
