"""Typed mutation errors and the one helper every mutation runs through.

``run_mutation`` opens the transaction, calls the service, writes the hash-chained audit
row (also for refusals, in a transaction of its own), and turns ``DomainError`` into the
payload's typed ``errors`` instead of an exception. Stale rows (optimistic locking) and
unique-key races become typed errors too.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.audit import append_audit, digest_input
from core.db import transaction
from core.errors import ConflictError, DomainError, StaleVersionError
from schema.context import Context
from schema.permissions import PUBLIC, access

__all__ = ["UserError", "run_mutation"]

log = logging.getLogger("opsure.mutation")
R = TypeVar("R")


@strawberry.type(description="Why a mutation refused its input: field path, stable code, message.")
@access(PUBLIC)
class UserError:
    field: str | None
    code: str
    message: str


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "__strawberry_definition__"):
        return {k: _jsonable(v) for k, v in vars(value).items() if not k.startswith("_")}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def run_mutation(
    info: Any,
    action: str,
    payload: Any,
    work: Callable[[Session], R],
    *,
    target: Callable[[Any], str | None] | None = None,
) -> tuple[R | None, list[UserError]]:
    """Run ``work`` in one transaction with an audit row; return (result, typed errors)."""
    ctx: Context = info.context
    principal = ctx.principal
    digest = digest_input(_jsonable(payload))
    try:
        with transaction(ctx.session_factory) as session:
            result = work(session)
            append_audit(
                session,
                actor=principal.subject,
                role=principal.role.value if principal.role else None,
                action=action,
                input_digest=digest,
                target=target(result) if target else None,
            )
    except DomainError as exc:
        _audit_refusal(ctx, action, digest, exc.code)
        return None, [UserError(field=exc.field, code=exc.code, message=exc.message)]
    except StaleDataError:
        err = StaleVersionError("the record changed meanwhile; reload and retry", field="expectedVersion")
        _audit_refusal(ctx, action, digest, err.code)
        return None, [UserError(field=err.field, code=err.code, message=err.message)]
    except IntegrityError as exc:
        log.info("integrity conflict in %s: %s", action, exc.orig)
        err2 = ConflictError("conflicts with existing data (concurrent change?)")
        _audit_refusal(ctx, action, digest, err2.code)
        return None, [UserError(field=None, code=err2.code, message=err2.message)]
    ctx.forget_loaded()
    return result, []


def _audit_refusal(ctx: Context, action: str, digest: str, code: str) -> None:
    principal = ctx.principal
    with transaction(ctx.session_factory) as session:
        append_audit(
            session,
            actor=principal.subject,
            role=principal.role.value if principal.role else None,
            action=action,
            input_digest=digest,
            outcome=f"refused:{code}"[:32],
        )
