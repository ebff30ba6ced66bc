"""Money, Rate, DateTime and Date: fixed scale, explicit zones, clear input errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import strawberry
from hypothesis import given
from hypothesis import strategies as st
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.config import StrawberryConfig

from schema.scalars import (
    SCALARS,
    Money,
    Rate,
    parse_datetime,
    parse_money,
    serialize_datetime,
    serialize_money,
)


@strawberry.type
class Echo:
    @strawberry.field
    def money(self, value: Money) -> Money:
        return value

    @strawberry.field
    def rate(self, value: Rate) -> Rate:
        return value

    @strawberry.field
    def instant(self, value: dt.datetime) -> dt.datetime:
        return value

    @strawberry.field
    def stored(self) -> dt.datetime:
        return dt.datetime(2026, 6, 1, 8, 30)  # naive, as SQLite returns it

    @strawberry.field
    def day(self, value: dt.date) -> dt.date:
        return value


SCHEMA = strawberry.Schema(query=Echo, config=StrawberryConfig(scalar_map=SCALARS))


def run(query: str, variables: dict[str, object] | None = None) -> tuple[dict[str, object] | None, list[str]]:
    result = SCHEMA.execute_sync(query, variable_values=variables)
    return result.data, [e.message for e in result.errors or []]


@pytest.mark.parametrize(("given_", "shown"), [("1170.45", "1170.45"), ("12.5", "12.50"), (7, "7.00"),
                                               (0.1, "0.10"), ("-3", "-3.00"), ("1E+2", "100.00")])
def test_money_reads_at_most_two_decimals_and_writes_exactly_two(given_: object, shown: str) -> None:
    data, errors = run("query($v: Money!) { money(value: $v) }", {"v": given_})
    assert errors == [] and data == {"money": shown}


@pytest.mark.parametrize("bad", ["1.005", 0.125, "abc", "NaN", "Infinity", True, "1000000000000.00", [], None])
def test_money_refuses_more_decimals_and_non_numbers_with_a_clear_error(bad: object) -> None:
    data, errors = run("query($v: Money!) { money(value: $v) }", {"v": bad})
    assert data is None and len(errors) == 1 and "$v" in errors[0], errors
    if bad in ("1.005", 0.125):
        assert "at most 2 decimals" in errors[0]


def test_money_literal_in_the_document_is_checked_as_a_variable_is() -> None:
    assert run('{ money(value: "3.1") }') == ({"money": "3.10"}, [])
    data, errors = run('{ money(value: "3.141") }')
    assert data is None and "at most 2 decimals" in errors[0]


def test_the_schema_prints_money_with_its_contract() -> None:
    sdl = SCHEMA.as_str()
    assert "scalar Money" in sdl and "exactly two decimals" in sdl and "Decimal" not in sdl.replace("decimal", "")


def test_rate_is_a_fraction_with_four_decimals() -> None:
    assert run("query($v: Rate!) { rate(value: $v) }", {"v": "0.2"}) == ({"rate": "0.2000"}, [])
    for bad in ("1.5", "0.00001", "-0.1"):
        assert run("query($v: Rate!) { rate(value: $v) }", {"v": bad})[0] is None


def test_datetime_output_always_names_its_zone_in_utc() -> None:
    assert run("{ stored }") == ({"stored": "2026-06-01T08:30:00+00:00"}, [])
    data, errors = run("query($v: DateTime!) { instant(value: $v) }", {"v": "2026-06-01T08:30:00+08:00"})
    assert errors == [] and data == {"instant": "2026-06-01T00:30:00+00:00"}
    assert run("query($v: DateTime!) { instant(value: $v) }", {"v": "2026-06-01T00:30:00Z"})[0] == data


@pytest.mark.parametrize("bad", ["2026-06-01T08:30:00", "2026-06-01", "yesterday", 1717200000])
def test_datetime_input_without_a_zone_is_refused(bad: object) -> None:
    data, errors = run("query($v: DateTime!) { instant(value: $v) }", {"v": bad})
    assert data is None and len(errors) == 1
    if bad == "2026-06-01T08:30:00":
        assert "explicit zone" in errors[0]


def test_date_is_strict_iso() -> None:
    assert run("query($v: Date!) { day(value: $v) }", {"v": "2026-06-01"}) == ({"day": "2026-06-01"}, [])
    for bad in ("20260601", "2026-02-30", "2026-06-01T00:00:00"):
        assert run("query($v: Date!) { day(value: $v) }", {"v": bad})[0] is None


@given(st.decimals(min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2))
def test_money_round_trips(amount: Decimal) -> None:
    assert parse_money(serialize_money(amount)) == amount


_OFFSETS = st.builds(dt.timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timedelta(minutes=m)))


@given(st.datetimes(timezones=_OFFSETS, min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(9998, 1, 1)))
def test_datetime_round_trips_to_the_same_instant(value: dt.datetime) -> None:
    assert parse_datetime(serialize_datetime(value)) == value


def test_parse_errors_are_input_coercion_errors() -> None:
    with pytest.raises(StrawberryInputCoercionError):
        parse_money("1.234")
    with pytest.raises(StrawberryInputCoercionError):
        parse_datetime("2026-06-01T00:00:00")


def test_money_output_from_a_float_uses_its_decimal_repr() -> None:
    assert serialize_money(0.1) == "0.10" and serialize_money(1.005) == "1.01" and serialize_money(7) == "7.00"
