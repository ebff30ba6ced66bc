"""Field encryption at rest: sealed in the database, bound to its column."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from core.crypto import FieldKeys
from tests.factories import make_customer


def test_seal_open_round_trip_and_context_binding() -> None:
    keys = FieldKeys.generate()
    sealed = keys.seal("110101199003077777", "customer.id_number")
    assert "1101011990" not in sealed
    assert keys.open(sealed, "customer.id_number") == "110101199003077777"
    with pytest.raises(InvalidTag):
        keys.open(sealed, "customer.phone")


def test_personal_fields_are_ciphertext_in_the_database(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        c = make_customer(s, birth=dt.date(1985, 1, 2), name="王小明")
        s.commit()
        raw = s.execute(
            text("SELECT name, id_number, phone, birth_date FROM customer WHERE id = :i"), {"i": c.id}
        ).one()
    assert all(v.startswith("v1:") for v in raw)
    assert "王小明" not in "".join(raw) and "19850102" not in "".join(raw)


def test_blind_index_is_deterministic_and_keyed() -> None:
    a, b = FieldKeys.generate(), FieldKeys.generate()
    assert a.index("x", "c") == a.index("x", "c") != b.index("x", "c")
    assert a.index("x", "c") != a.index("x", "d")
