"""Per-mutation error types: every refusal returned, codes an enum in the SDL, unlisted codes caught."""

from __future__ import annotations

import enum
import logging
from typing import Any

import pytest
import strawberry
from sqlalchemy import select
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from core.audit import AuditEntry
from core.auth import Principal, Role
from core.errors import (
    DomainError,
    DomainErrors,
    NotFoundError,
    ValidationError,
    collect_errors,
)
from core.settings import Settings
from schema.context import Context
from schema.errors import COMMON_CODES, UserError, mutation_errors, run_mutation
from schema.scalars import SCALARS


class ProbeErrorCode(enum.Enum):
    TOO_SMALL = "The amount is below the minimum."
    TOO_LATE = "The date is past the deadline."


ProbeError = mutation_errors("Probe", ProbeErrorCode)


@strawberry.type(description="The result of probe.")
class ProbePayload:
    ok: bool = strawberry.field(description="True when accepted.")
    errors: list[ProbeError] = strawberry.field(description="Every refusal.")  # type: ignore[valid-type]


def _check(amount: int, late: bool, code: str | None) -> int:
    with collect_errors() as errors:
        if amount < 10:
            errors.add(ValidationError("amount below 10", field="amount", code="TOO_SMALL"))
        if late:
            errors.add(ValidationError("too late", field="date", code="TOO_LATE"))
        if code is not None:
            raise DomainError("a code nobody listed", code=code)
    return amount


@strawberry.type
class Query:
    ping: str = strawberry.field(default="pong", description="Liveness.")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Probe the error machinery.")  # type: ignore[untyped-decorator]
    def probe(self, info: Info[Context, Any], amount: int, late: bool = False, code: str | None = None,
              legacy: bool = False) -> ProbePayload:
        result, errors = run_mutation(info, "probe", {"amount": amount}, lambda s: _check(amount, late, code),
                                      codes=None if legacy else ProbeError)
        return ProbePayload(ok=result is not None, errors=errors)


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation, config=StrawberryConfig(scalar_map=SCALARS))
PROBE = "mutation($a: Int!, $late: Boolean!, $code: String) { probe(amount: $a, late: $late, code: $code) " \
        "{ ok errors { field code message } } }"


def run(session_factory: Any, **variables: Any) -> Any:
    ctx = Context(principal=Principal(subject="adjuster-test", role=Role.ADJUSTER), session_factory=session_factory,
                  settings=Settings())
    try:
        return SCHEMA.execute_sync(PROBE, variable_values={"late": False, **variables}, context_value=ctx)
    finally:
        ctx.close()


def test_the_sdl_lists_the_mutations_codes_with_the_common_ones() -> None:
    sdl = SCHEMA.as_str()
    assert "type ProbeError {" in sdl and "code: ProbeErrorCode!" in sdl and "field: String" in sdl
    start = sdl.index("enum ProbeErrorCode {")
    block = sdl[start:sdl.index("}", start)]
    for code in ("TOO_SMALL", "TOO_LATE", *COMMON_CODES):
        assert f"  {code}\n" in block, code
    assert '"""The amount is below the minimum."""' in block


def test_every_refusal_comes_back_not_the_first(session_factory: Any) -> None:
    result = run(session_factory, a=3, late=True)
    assert result.errors is None
    assert result.data["probe"] == {"ok": False, "errors": [
        {"field": "amount", "code": "TOO_SMALL", "message": "amount below 10"},
        {"field": "date", "code": "TOO_LATE", "message": "too late"}]}
    with session_factory() as s:
        outcome = s.scalars(select(AuditEntry.outcome).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert outcome == "refused:TOO_SMALL,TOO_LATE"


def test_success_has_no_errors(session_factory: Any) -> None:
    assert run(session_factory, a=30).data["probe"] == {"ok": True, "errors": []}


def test_an_unlisted_code_fails_loudly_in_strict_mode(session_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSURE_STRICT_ERROR_CODES", "1")
    result = run(session_factory, a=30, code="SURPRISE")
    assert result.data is None and result.errors is not None
    assert "SURPRISE" in result.errors[0].message and "ProbeErrorCode does not list" in result.errors[0].message


def test_an_unlisted_code_is_answered_as_invalid_and_logged_otherwise(
        session_factory: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OPSURE_STRICT_ERROR_CODES", "0")
    with caplog.at_level(logging.WARNING, logger="opsure.mutation"):
        result = run(session_factory, a=3, code="SURPRISE")
    assert result.errors is None
    assert [e["code"] for e in result.data["probe"]["errors"]] == ["TOO_SMALL", "INVALID"]
    assert "unlisted code SURPRISE" in caplog.text


def test_collect_errors_raises_one_refusal_as_itself_and_several_together() -> None:
    with pytest.raises(NotFoundError), collect_errors() as errors:
        errors.add(NotFoundError("no such policy", field="policyId"))
    with pytest.raises(DomainErrors) as many, collect_errors() as errors:
        with errors.check():
            raise NotFoundError("no such policy", field="policyId")
        errors.add(ValidationError("bad", field="x"))
        errors.raise_if_any()
        raise AssertionError("not reached")
    assert [(e.code, e.field) for e in many.value.errors] == [("NOT_FOUND", "policyId"), ("INVALID", "x")]
    with collect_errors() as errors:  # nothing collected: nothing raised
        pass
    nested = DomainErrors([DomainErrors([ValidationError("a")]), NotFoundError("b")])
    assert [e.message for e in nested.errors] == ["a", "b"]


def test_a_non_domain_exception_passes_through_collect_errors() -> None:
    with pytest.raises(KeyError), collect_errors() as errors:
        errors.add(ValidationError("a"))
        raise KeyError("bug")


def test_codes_need_descriptions_and_upper_snake_case() -> None:
    with pytest.raises(ValueError, match="no description"):
        mutation_errors("Bad1", {"EMPTY": " "})
    with pytest.raises(ValueError, match="UPPER_SNAKE_CASE"):
        mutation_errors("Bad2", {"lower": "x"})

    class Aliased(enum.Enum):
        A = "same"
        B = "same"

    with pytest.raises(ValueError, match="aliases"):
        mutation_errors("Bad3", Aliased)


def test_legacy_payloads_keep_user_error(session_factory: Any) -> None:
    ctx = Context(principal=Principal(subject="a", role=Role.ADMIN), session_factory=session_factory,
                  settings=Settings())
    result = SCHEMA.execute_sync("mutation { probe(amount: 1, late: true, legacy: true) { errors { code } } }",
                                 context_value=ctx)
    ctx.close()
    assert result.data == {"probe": {"errors": [{"code": "TOO_SMALL"}, {"code": "TOO_LATE"}]}}
    assert UserError.__name__ == "UserError"
