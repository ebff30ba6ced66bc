"""The bank file formats of the built-in adapter (docs/PAYMENTS.md is their description for the bank).

A batch file (UTF-8, ``\\n`` line ends, ``|`` separated; no field may contain ``|`` or a line end)::

    H|OPSURE|<batch reference>|<created, UTC ISO 8601>|CNY
    D|<instruction reference>|CREDIT or DEBIT|<amount, 2 decimals>|<bank code>|<account number>|<holder name>
    T|<count of D lines>|<sum of D amounts, 2 decimals>

A returns (acknowledgement) file from the bank::

    H|BANK|<returns reference>|<date, ISO 8601>
    R|<instruction reference>|SETTLED|<amount>|<bank transaction id>
    R|<instruction reference>|RETURNED|<amount>|<reason code, ISO 20022 style: 4 letters or digits>
    T|<count of R lines>
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "BatchLine",
    "FormatError",
    "ReturnLine",
    "answer_batch",
    "format_batch",
    "format_returns",
    "parse_batch",
    "parse_returns",
]

_FIELD = re.compile(r"^[^|\r\n]*$")
_REFERENCE = re.compile(r"^[A-Z0-9-]{4,20}$")
_REASON = re.compile(r"^[A-Z0-9]{4}$")
_TXN = re.compile(r"^[A-Za-z0-9._:-]{1,40}$")


class FormatError(ValueError):
    """A file that does not follow the format; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, message: str, *, line: int = 0, code: str = "MALFORMED") -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.code = code


@dataclass(frozen=True)
class BatchLine:
    """One instruction as the bank reads it."""

    reference: str
    direction: str
    amount: Decimal
    bank_code: str
    account_number: str
    holder_name: str


@dataclass(frozen=True)
class ReturnLine:
    """The bank's answer for one instruction: settled (with its transaction id) or returned (with a reason)."""

    line: int
    reference: str
    settled: bool
    amount: Decimal
    detail: str  # the bank's transaction id when settled, its reason code when returned


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):.2f}"


def _clean(value: str) -> str:
    if not _FIELD.match(value):
        raise FormatError("a field holds a separator or a line end")
    return value


def format_batch(reference: str, created_iso: str, lines: Sequence[BatchLine]) -> str:
    """The text of a batch file: header, one D line per instruction, trailer with count and total."""
    out = [f"H|OPSURE|{_clean(reference)}|{_clean(created_iso)}|CNY"]
    total = Decimal(0)
    for row in lines:
        total += row.amount
        out.append("|".join(["D", _clean(row.reference), row.direction.upper(), _money(row.amount),
                             _clean(row.bank_code), _clean(row.account_number), _clean(row.holder_name)]))
    out.append(f"T|{len(lines)}|{_money(total)}")
    return "\n".join(out) + "\n"


def format_returns(reference: str, date_iso: str, answers: Sequence[tuple[str, bool, Decimal, str]]) -> str:
    """The text of a returns file (what a bank sends back; the demo and tests play the bank with it)."""
    out = [f"H|BANK|{_clean(reference)}|{_clean(date_iso)}"]
    for ref, settled, amount, detail in answers:
        out.append("|".join(["R", _clean(ref), "SETTLED" if settled else "RETURNED", _money(amount), _clean(detail)]))
    out.append(f"T|{len(answers)}")
    return "\n".join(out) + "\n"


def _amount(text: str, line: int) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FormatError("the amount is not a number", line=line) from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise FormatError("the amount is not a positive amount with 2 decimals", line=line)
    return value


def parse_returns(text: str) -> list[ReturnLine]:
    """The R lines of a returns file; a bad header, line or trailer count refuses the whole file."""
    rows = text.splitlines()
    if not rows or not rows[0].startswith("H|BANK|") or len(rows[0].split("|")) != 4:
        raise FormatError("no returns header (H|BANK|reference|date)", line=1)
    if len(rows) < 2 or not rows[-1].startswith("T|"):
        raise FormatError("no trailer (T|count)", line=len(rows))
    out: list[ReturnLine] = []
    for number, row in enumerate(rows[1:-1], start=2):
        parts = row.split("|")
        if len(parts) != 5 or parts[0] != "R":
            raise FormatError("not an R line of 5 fields", line=number)
        _, ref, outcome, amount, detail = parts
        if not _REFERENCE.match(ref):
            raise FormatError("not an instruction reference", line=number)
        if outcome not in ("SETTLED", "RETURNED"):
            raise FormatError("the outcome is neither SETTLED nor RETURNED", line=number)
        settled = outcome == "SETTLED"
        if not (_TXN if settled else _REASON).match(detail):
            raise FormatError("a bad transaction id" if settled else "a bad reason code", line=number)
        out.append(ReturnLine(number, ref, settled, _amount(amount, number), detail))
    trailer = rows[-1].split("|")
    if len(trailer) != 2 or trailer[1] != str(len(out)):
        raise FormatError("the trailer's count is not the number of R lines", line=len(rows))
    return out


def parse_batch(text: str) -> tuple[str, list[BatchLine]]:
    """A batch file's reference and lines (what the bank reads); a bad count or total refuses the file."""
    rows = text.splitlines()
    head = rows[0].split("|") if rows else []
    if len(head) != 5 or head[:2] != ["H", "OPSURE"]:
        raise FormatError("no batch header (H|OPSURE|reference|created|currency)", line=1)
    lines: list[BatchLine] = []
    for number, row in enumerate(rows[1:-1], start=2):
        parts = row.split("|")
        if len(parts) != 7 or parts[0] != "D":
            raise FormatError("not a D line of 7 fields", line=number)
        lines.append(BatchLine(parts[1], parts[2], _amount(parts[3], number), parts[4], parts[5], parts[6]))
    trailer = rows[-1].split("|") if len(rows) > 1 else []
    total = sum((x.amount for x in lines), Decimal(0))
    if len(trailer) != 3 or trailer[0] != "T" or trailer[1] != str(len(lines)) or trailer[2] != _money(total):
        raise FormatError("the trailer's count or total does not match the D lines", line=len(rows))
    return head[2], lines


def answer_batch(text: str, *, date_iso: str, returned: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Play the bank: the returns file answering a batch file, every line SETTLED unless ``returned`` names its
    reason code. Returns (file name, text). The demo and tests use it; a real bank sends its own."""
    reference, lines = parse_batch(text)
    returned = returned or {}
    answers = [(x.reference, x.reference not in returned, x.amount,
                returned.get(x.reference, f"BK{reference[1:].replace('-', '')}{i:05d}"))
               for i, x in enumerate(lines, start=1)]
    name = f"R{reference[1:]}.txt"
    return name, format_returns(f"R{reference[1:]}", date_iso, answers)
