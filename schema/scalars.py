"""The API's value scalars: ``Money`` and ``Rate`` at a fixed scale, ``DateTime`` always with a zone.

``build_schema`` installs :data:`SCALARS` for the whole schema, so a domain annotates
``Money`` (or ``Rate``) where it used ``Decimal``, and keeps ``dt.datetime`` and
``dt.date`` as they are:

- ``Money``: a decimal amount serialized as a string with exactly two decimals
  (``"1170.45"``); parsed from a string or a number with at most two decimals and at most
  12 integer digits (the store's ``NUMERIC(14, 2)``), anything else a clear input error.
- ``Rate``: a fraction such as a co-payment rate, a string with exactly four decimals
  (``"0.2000"``), parsed like ``Money`` with at most four decimals, between 0 and 1.
- ``DateTime``: ISO 8601 with an explicit offset, always in UTC on output
  (``"2026-06-01T08:30:00+00:00"``); a naive value from the store (SQLite returns naive
  UTC) is read as UTC; an input without a zone is refused.
- ``Date``: an ISO 8601 calendar date, ``YYYY-MM-DD`` (business dates, in the business
  time zone, ``core.clock``).

Example::

    from schema.scalars import Money

    @strawberry.type(description="One payment to the insured.")
    class ClaimPayment:
        amount: Money = strawberry.field(description="Paid amount (CNY).")   # a Decimal at run time
        paid_at: dt.datetime = strawberry.field(description="When it was paid.")

    ClaimPayment(amount=row.amount, paid_at=row.paid_at)   # plain Decimal and datetime values
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, NewType, TypeAlias

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

__all__ = ["DATE", "DATETIME", "MONEY", "RATE", "SCALARS", "Money", "Rate", "parse_datetime", "parse_money",
           "serialize_datetime", "serialize_money"]

if TYPE_CHECKING:
    # Type checkers see plain decimals, so domain code passes a row's Decimal as it is.
    Money: TypeAlias = Decimal
    Rate: TypeAlias = Decimal
else:
    Money = NewType("Money", Decimal)
    Rate = NewType("Rate", Decimal)

_CENT = Decimal("0.01")
_BASIS = Decimal("0.0001")
_MAX_MONEY = Decimal("999999999999.99")  # NUMERIC(14, 2)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _refuse(message: str) -> StrawberryInputCoercionError:
    return StrawberryInputCoercionError(message)


def _decimal(value: object, scalar: str, places: int) -> Decimal:
    """A finite decimal from a string or number with at most ``places`` decimals."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _refuse(f"{scalar} must be a decimal string such as \"12.50\" or a number, not {value!r}.")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else _exact(value)
    except InvalidOperation:
        raise _refuse(f"{scalar} must be a decimal such as \"12.50\", not {value!r}.") from None
    if not number.is_finite():
        raise _refuse(f"{scalar} must be a finite decimal, not {value!r}.")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise _refuse(f"{scalar} takes at most {places} decimals: {value!r} has more.")
    return number


def parse_money(value: object) -> Decimal:
    """A ``Money`` input: at most 2 decimals and 12 integer digits; anything else a clear error."""
    number = _decimal(value, "Money", 2)
    if abs(number) > _MAX_MONEY:
        raise _refuse(f"Money must be at most {_MAX_MONEY} in absolute value, not {value!r}.")
    return number.quantize(_CENT)


def _exact(value: Any) -> Decimal:
    # A float's shortest repr (0.1 -> "0.1"), never its binary expansion.
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def serialize_money(value: Any) -> str:
    """A ``Money`` output: a string with exactly 2 decimals (half-up below a cent)."""
    return str(_exact(value).quantize(_CENT, rounding=ROUND_HALF_UP))


def _parse_rate(value: object) -> Decimal:
    number = _decimal(value, "Rate", 4)
    if not 0 <= number <= 1:
        raise _refuse(f"Rate must be between 0 and 1, not {value!r}.")
    return number.quantize(_BASIS)


def _serialize_rate(value: Any) -> str:
    return str(_exact(value).quantize(_BASIS, rounding=ROUND_HALF_UP))


def serialize_datetime(value: dt.datetime) -> str:
    """ISO 8601 in UTC with its offset; a naive value (SQLite's) is UTC."""
    aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return aware.isoformat()


def parse_datetime(value: object) -> dt.datetime:
    """An ISO 8601 date-time with an explicit zone (``Z`` or ``+08:00``), as UTC."""
    if not isinstance(value, str):
        raise _refuse(f"DateTime must be an ISO 8601 string such as \"2026-06-01T08:30:00+08:00\", not {value!r}.")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _refuse(f"DateTime must be ISO 8601 such as \"2026-06-01T08:30:00+08:00\", not {value!r}.") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _refuse(f"DateTime needs an explicit zone (\"Z\" or an offset such as \"+08:00\"): {value!r} has none.")
    return parsed.astimezone(dt.UTC)


def _parse_date(value: object) -> dt.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _refuse(f"Date must be YYYY-MM-DD, not {value!r}.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _refuse(f"Date {value!r} is not a calendar date.") from None


MONEY = ScalarDefinition(
    name="Money",
    description="An amount of money (CNY) at a fixed scale: a string with exactly two decimals, e.g. \"1170.45\". "
    "Input: a string or number with at most two decimals and at most 12 integer digits; more decimals are refused, "
    "never rounded.",
    specified_by_url=None,
    serialize=serialize_money,
    parse_value=parse_money,
    parse_literal=None,
    origin=Money,
)
RATE = ScalarDefinition(
    name="Rate",
    description="A fraction between 0 and 1 at a fixed scale, e.g. a co-payment rate: a string with exactly four "
    "decimals, e.g. \"0.2000\". Input: a string or number with at most four decimals.",
    specified_by_url=None,
    serialize=_serialize_rate,
    parse_value=_parse_rate,
    parse_literal=None,
    origin=Rate,
)
DATETIME = ScalarDefinition(
    name="DateTime",
    description="An instant, ISO 8601 with an explicit offset, always UTC on output, e.g. "
    "\"2026-06-01T00:30:00+00:00\". Input must name its zone (\"Z\" or an offset such as \"+08:00\").",
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)
DATE = ScalarDefinition(
    name="Date",
    description="A calendar date, ISO 8601 YYYY-MM-DD, e.g. \"2026-06-01\"; business dates are dates in the "
    "business time zone (OPSURE_BUSINESS_TZ, Asia/Shanghai by default), never UTC's date.",
    specified_by_url=None,
    serialize=lambda value: value.isoformat(),
    parse_value=_parse_date,
    parse_literal=None,
    origin=dt.date,
)

#: Every scalar of the API by the Python type that stands for it (``build_schema``'s ``scalar_map``).
SCALARS: dict[object, ScalarDefinition] = {Money: MONEY, Rate: RATE, dt.datetime: DATETIME, dt.date: DATE}
