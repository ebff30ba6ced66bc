"""Typed mutation errors and the one helper every mutation runs through.

``run_mutation`` opens the transaction, calls the service, writes the hash-chained audit
row (also for refusals, in a transaction of its own), and turns ``DomainError`` into the
payload's typed ``errors`` instead of an exception: every refusal of a ``DomainErrors``
(``core.errors.collect_errors``), not the first. Stale rows (optimistic locking) and
unique-key races become typed errors too. After a change it ends the request's read
transaction, so what the payload (or the next mutation of the document) reads is fresh.

Each mutation lists its error codes: ``mutation_errors`` makes its error type
``<Name>Error { field, code: <Name>ErrorCode!, message }`` whose enum holds the mutation's
own codes and the codes every mutation can get (:data:`COMMON_CODES`). A code a service
raises that the mutation does not list is answered as ``INVALID`` and logged; with
``OPSURE_STRICT_ERROR_CODES=1`` (the test suite sets it) it fails the request with
:class:`UnlistedErrorCode` instead, so a missing code shows up in the domain's tests.

Example::

    class ReportClaimErrorCode(enum.Enum):       # member name = code, value = its description
        DUPLICATE_CLAIM = "A claim for the same treatment was already reported."
        POLICY_NOT_IN_FORCE = "The policy was not in force on the treatment date."

    ReportClaimError = mutation_errors("ReportClaim", ReportClaimErrorCode)

    @strawberry.type(description="The result of reportClaim.")
    @access(PUBLIC)
    class ReportClaimPayload:
        claim: Claim | None = strawberry.field(description="The reported claim (null when refused).")
        errors: list[ReportClaimError] = strawberry.field(description="Every refusal (empty on success).")

    row, errors = run_mutation(info, "reportClaim", input, work, codes=ReportClaimError)
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.audit import append_audit, digest_input
from core.db import transaction
from core.errors import ConflictError, DomainError, StaleVersionError, each_error
from schema.context import Context
from schema.permissions import PUBLIC, access

__all__ = ["COMMON_CODES", "UnlistedErrorCode", "UserError", "mutation_errors", "run_mutation"]

log = logging.getLogger("opsure.mutation")
R = TypeVar("R")

#: Codes every mutation can get, added to each mutation's code enum.
COMMON_CODES: dict[str, str] = {
    "INVALID": "The input breaks a rule; the message says which.",
    "BAD_ID": "An id in the input is malformed or names an object of another type.",
    "NOT_FOUND": "Something the input names does not exist or is not visible to the caller.",
    "FORBIDDEN": "The caller may not do this to this object.",
    "CONFLICT": "The change collides with existing data (a duplicate, or a concurrent change).",
    "STALE_VERSION": "The object changed since the caller read it (expectedVersion): reload and retry.",
}
_FALLBACK = "INVALID"
_FIELD_DOC = ("Path of the input field at fault in camelCase (e.g. \"input.email\" is \"email\"), null when the "
              "refusal is not about one field.")
_MESSAGE_DOC = "What is wrong, for people (English); clients branch on `code`, never on the message."


class UnlistedErrorCode(GraphQLError):
    """A service refused with a code its mutation does not list (raised only in strict mode)."""


@strawberry.type(description="Why a mutation refused its input (older payloads): field path, stable code, message.")
@access(PUBLIC)
class UserError:
    field: str | None = strawberry.field(description=_FIELD_DOC)
    code: str = strawberry.field(description="Stable machine-readable code of the refusal.")
    message: str = strawberry.field(description=_MESSAGE_DOC)


_ERROR_TYPES: dict[Any, type] = {}  # a mutation's error type, also by the codes enum it was made from


def _described_codes(codes: type[enum.Enum] | Mapping[str, str] | None) -> dict[str, str]:
    if codes is None:
        return {}
    if isinstance(codes, Mapping):
        return dict(codes)
    definition = getattr(codes, "__strawberry_definition__", None)
    if definition is not None:  # already a strawberry enum: its values carry the descriptions
        return {v.name: v.description or "" for v in definition.values}
    if len(codes.__members__) != len(list(codes)):
        raise ValueError(f"{codes.__name__}: two codes share a description (enum aliases); make them distinct")
    return {name: member.value for name, member in codes.__members__.items()}


def mutation_errors(name: str, codes: type[enum.Enum] | Mapping[str, str] | None = None) -> type:
    """The error type ``<name>Error`` of one mutation, its code an enum ``<name>ErrorCode``.

    ``codes``: the mutation's own codes with a description each (an enum whose member
    names are the codes and values the descriptions, or a mapping); :data:`COMMON_CODES`
    are added. The type's ``Code`` attribute is the Python enum of every code.
    """
    described = {**COMMON_CODES, **_described_codes(codes)}
    for code, doc in described.items():
        if not code.isupper() or not code.replace("_", "").isalnum():
            raise ValueError(f"{name}: error code {code!r} is not UPPER_SNAKE_CASE")
        if not isinstance(doc, str) or not doc.strip():
            raise ValueError(f"{name}: error code {code} has no description")
    code_enum = enum.Enum(  # type: ignore[misc]
        f"{name}ErrorCode", {code: strawberry.enum_value(code, description=doc) for code, doc in described.items()})
    code_enum.__module__ = __name__
    strawberry.enum(code_enum, name=f"{name}ErrorCode", description=f"Why {name[:1].lower()}{name[1:]} refused "
                    "its input: the mutation's own codes and those every mutation can get.")
    namespace: dict[str, Any] = {
        "__annotations__": {"field": str | None, "code": code_enum, "message": str},
        "__module__": __name__,
        "field": strawberry.field(description=_FIELD_DOC),
        "code": strawberry.field(description="Stable machine-readable code of the refusal."),
        "message": strawberry.field(description=_MESSAGE_DOC),
    }
    cls = type(f"{name}Error", (), namespace)
    error_type: Any = strawberry.type(access(PUBLIC)(cls), name=f"{name}Error", description=(
        f"Why {name[:1].lower()}{name[1:]} refused its input: the field at fault, a code of {name}ErrorCode, "
        "a message."))
    error_type.Code = code_enum
    _ERROR_TYPES[error_type] = error_type
    if codes is not None and not isinstance(codes, Mapping):
        _ERROR_TYPES[codes] = error_type
    return error_type  # type: ignore[no-any-return]


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


def _strict() -> bool:
    return os.environ.get("OPSURE_STRICT_ERROR_CODES") == "1"


def _typed(action: str, refusals: list[DomainError], codes: Any) -> list[Any]:
    """The payload's errors: ``UserError`` without ``codes``, else the mutation's error type."""
    if codes is None:
        return [UserError(field=e.field, code=e.code, message=e.message) for e in refusals]
    error_type = _ERROR_TYPES.get(codes)
    if error_type is None:
        raise TypeError(f"{action}: codes must come from mutation_errors(), not {codes!r}")
    code_enum: type[enum.Enum] = error_type.Code  # type: ignore[attr-defined]
    out = []
    for e in refusals:
        code = code_enum.__members__.get(e.code)
        if code is None:
            if _strict():
                raise UnlistedErrorCode(f"{action} refused with {e.code}, which {code_enum.__name__} does not list "
                                        f"(add it to the mutation's codes): {e.message}")
            log.warning("%s refused with unlisted code %s (answered as %s): %s", action, e.code, _FALLBACK, e.message)
            code = code_enum[_FALLBACK]
        out.append(error_type(field=e.field, code=code, message=e.message))
    return out


def run_mutation(
    info: Any,
    action: str,
    payload: Any,
    work: Callable[[Session], R],
    *,
    target: Callable[[Any], str | None] | None = None,
    codes: Any = None,
) -> tuple[R | None, list[Any]]:
    """Run ``work`` in one transaction with an audit row; return (result, every refusal typed).

    ``codes``: the mutation's error type from :func:`mutation_errors` (or the enum it was made
    from); without it the refusals are ``UserError``.
    """
    ctx: Context = info.context
    principal = ctx.principal
    digest = digest_input(_jsonable(payload))
    refusals: list[DomainError]
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
        refusals = each_error(exc)
    except StaleDataError:
        refusals = [StaleVersionError("the record changed meanwhile; reload and retry", field="expectedVersion")]
    except IntegrityError as exc:
        log.info("integrity conflict in %s: %s", action, exc.orig)
        refusals = [ConflictError("conflicts with existing data (concurrent change?)")]
    else:
        ctx.forget_loaded()
        return result, []
    _audit_refusal(ctx, action, digest, ",".join(dict.fromkeys(e.code for e in refusals)))
    return None, _typed(action, refusals, codes)


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
