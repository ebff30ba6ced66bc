"""DataLoaders of the claims domain's relations, and the look-ahead of a page of claims.

A claim's policy and insured customer are the policies domain's relations: its loaders
(``schema.policies.loaders``) load them, one per relation for the whole schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from core.errors import DomainError
from core.pagination import PageRequest
from resolvers.claims import loaders as fetch
from resolvers.claims import models as m
from schema.context import Context
from schema.loaders import BatchLoader
from schema.lookahead import selected
from schema.policies.loaders import (
    CoverageItemsByProductIdLoader,
    CustomerByIdLoader,
    PolicyByIdLoader,
    ProductByIdLoader,
)
from schema.relay import page_request

__all__ = [
    "DocumentPagesByClaimIdLoader",
    "EventPagesByClaimIdLoader",
    "LineItemsByClaimIdLoader",
    "PagesByClaimIdLoader",
    "PaymentPagesByClaimIdLoader",
    "RequestPagesByClaimIdLoader",
    "prefetch_claims",
]

#: A page loader's key: the claim and the page asked for (its arguments checked by ``page_request``).
PageKey = tuple[int, PageRequest]


class LineItemsByClaimIdLoader(BatchLoader[int, list[m.ClaimLineItem]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.line_items_by_claim(self.context.session, keys)


class _ClaimPages:
    """A page of one of a claim's relations per (claim, page request): one query per distinct request."""

    context: Context
    model: fetch.ClaimPart
    #: A key of this loader, for tests that call every loader (``tests/schema/test_layout.py``).
    sample_key: PageKey = (1, PageRequest(first=20))

    def fetch(self, keys: Any) -> Any:
        by_request: dict[PageRequest, list[int]] = {}
        for claim_id, request in keys:
            by_request.setdefault(request, []).append(claim_id)
        found: dict[PageKey, fetch.PartPage] = {}
        for request, ids in by_request.items():
            pages = fetch.pages_by_claim(self.context.session, self.model, ids, request)
            found.update({(i, request): page for i, page in pages.items()})
        return found


#: Any of the loaders below.
PagesByClaimIdLoader = type[BatchLoader[PageKey, fetch.PartPage]]


class DocumentPagesByClaimIdLoader(_ClaimPages, BatchLoader[PageKey, fetch.PartPage]):
    model = m.ClaimDocument


class EventPagesByClaimIdLoader(_ClaimPages, BatchLoader[PageKey, fetch.PartPage]):
    model = m.ClaimEvent


class PaymentPagesByClaimIdLoader(_ClaimPages, BatchLoader[PageKey, fetch.PartPage]):
    model = m.Payment


class RequestPagesByClaimIdLoader(_ClaimPages, BatchLoader[PageKey, fetch.PartPage]):
    model = m.DocumentRequest


#: The claim's paged relations by field name.
PAGED: dict[str, PagesByClaimIdLoader] = {
    "documents": DocumentPagesByClaimIdLoader, "timeline": EventPagesByClaimIdLoader,
    "payments": PaymentPagesByClaimIdLoader, "documentRequests": RequestPagesByClaimIdLoader,
}


def _fields_at(info: Info[Context, Any], *path: str) -> Iterator[SelectedField]:
    """The fields selected at ``path`` below the current field (through fragments)."""

    def flat(selections: list[Any]) -> Iterator[SelectedField]:
        for sel in selections:
            if isinstance(sel, SelectedField):
                yield sel
            elif isinstance(sel, InlineFragment | FragmentSpread):
                yield from flat(sel.selections)

    level: list[SelectedField] = list(flat(list(info.selected_fields)))
    for name in path:
        level = [f for parent in level for f in flat(parent.selections) if f.name == name]
    yield from (f for parent in level for f in flat(parent.selections))


def _request(ctx: Context, arguments: dict[str, Any]) -> PageRequest | None:
    """The checked page request of a field's literal or variable arguments (None: let the field refuse it)."""
    try:
        sizes = {k: int(arguments[k]) if arguments.get(k) is not None else None for k in ("first", "last")}
        return page_request(sizes["first"], arguments.get("after"), sizes["last"], arguments.get("before"),
                            ctx.settings)
    except (DomainError, TypeError, ValueError):
        return None


def prefetch_claims(ctx: Context, info: Info[Context, Any], rows: list[Any]) -> None:
    """Look-ahead: one query per selected relation (per distinct page of it) for the whole page of claims."""
    if not rows:
        return
    wanted = selected(info, "edges", "node")
    ids = [r.id for r in rows]
    if "lineItems" in wanted:
        ctx.loader(LineItemsByClaimIdLoader).fetch_and_prime(ids)
    for f in _fields_at(info, "edges", "node"):
        loader = PAGED.get(f.name)
        request = _request(ctx, f.arguments) if loader is not None else None
        if loader is not None and request is not None:
            ctx.loader(loader).fetch_and_prime([(i, request) for i in ids])
    if "customer" in wanted:
        ctx.loader(CustomerByIdLoader).fetch_and_prime([r.customer_id for r in rows])
    if "policy" in wanted:
        ctx.loader(PolicyByIdLoader).fetch_and_prime([r.policy_id for r in rows])
        below = selected(info, "edges", "node", "policy")
        if "product" in below or "customer" in below:
            policies = [ctx.loader(PolicyByIdLoader).peek(r.policy_id) for r in rows]
            if "product" in below:
                product_ids = [p.product_id for p in policies if p is not None]
                ctx.loader(ProductByIdLoader).fetch_and_prime(product_ids)
                if "coverageItems" in selected(info, "edges", "node", "policy", "product"):
                    ctx.loader(CoverageItemsByProductIdLoader).fetch_and_prime(product_ids)
            if "customer" in below:
                ctx.loader(CustomerByIdLoader).fetch_and_prime([p.customer_id for p in policies if p is not None])
