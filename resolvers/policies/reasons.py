"""Why a quote was decided and why a policy ended: closed codes, rendered in the reader's words.

Quotes and policies store codes (``Quote.reasons`` holds :class:`UnderwritingReason` values;
a policy's end reason follows from its status), never prose. The text names nothing a
reader could not select themselves: the excluded ICD-10 categories are the quote's own
``exclusions`` field and the smoker loading is the published rule; which questions were
answered "yes" and the diagnoses declared (medical data no field exposes) never appear.
Rows written before the codes hold prose; :func:`underwriting_reason` maps it back.

Example::

    render_underwriting_reason(UnderwritingReason.CONDITIONS_EXCLUDED, exclusions=["E11"], locale="en")
    # 'Accepted with exclusions: E11 not covered.'
"""

# The Chinese wording uses fullwidth punctuation on purpose.
# ruff: noqa: RUF001
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from resolvers.policies.models import END_REASON_OF_STATUS, PolicyEndReason, PolicyStatus
from resolvers.policies.underwriting import SMOKER_LOADING, UnderwritingReason

__all__ = [
    "LEGACY_END_REASONS",
    "Locale",
    "end_note",
    "end_reason",
    "render_end_reason",
    "render_underwriting_reason",
    "underwriting_reason",
    "underwriting_reasons",
]

Locale = Literal["zh-CN", "en"]

UNDERWRITING_WORDING: dict[Locale, dict[UnderwritingReason, str]] = {
    "en": {
        UnderwritingReason.STANDARD_RISK: "Accepted at the standard rate.",
        UnderwritingReason.CONDITIONS_EXCLUDED: "Accepted with exclusions: {exclusions} not covered.",
        UnderwritingReason.SMOKER_LOADING: "Smoker loading: premium x{loading}.",
        UnderwritingReason.DECLINED_MALIGNANCY: "Declined: a malignant tumour was declared.",
        UnderwritingReason.DECLINED_PENDING_INVESTIGATION:
            "Declined for now: a medical examination is pending; apply again when its results are known.",
        UnderwritingReason.REFERRED_FOR_REVIEW: "Referred to our underwriters for a manual review; we will be in touch.",
        UnderwritingReason.ACCEPTED_AFTER_REVIEW: "Accepted after review by our underwriters.",
        UnderwritingReason.DECLINED_AFTER_REVIEW: "Declined after review by our underwriters.",
    },
    "zh-CN": {
        UnderwritingReason.STANDARD_RISK: "按标准费率承保。",
        UnderwritingReason.CONDITIONS_EXCLUDED: "除外承保：{exclusions} 不在保障范围内。",
        UnderwritingReason.SMOKER_LOADING: "吸烟加费：保费 x{loading}。",
        UnderwritingReason.DECLINED_MALIGNANCY: "拒保：已告知恶性肿瘤。",
        UnderwritingReason.DECLINED_PENDING_INVESTIGATION: "暂缓承保：体检结果待出，请在结果出具后重新投保。",
        UnderwritingReason.REFERRED_FOR_REVIEW: "已转人工核保，核保人员将与您联系。",
        UnderwritingReason.ACCEPTED_AFTER_REVIEW: "经人工核保，同意承保。",
        UnderwritingReason.DECLINED_AFTER_REVIEW: "经人工核保，不予承保。",
    },
}

END_WORDING: dict[Locale, dict[PolicyEndReason, str]] = {
    "en": {
        PolicyEndReason.COOLING_OFF_CANCELLATION: "Cancelled within the cooling-off period; premium refunded in full.",
        PolicyEndReason.SURRENDER: "Surrendered; unearned premium refunded less expenses.",
        PolicyEndReason.PREMIUM_UNPAID: "Lapsed: premium unpaid after the grace period.",
        PolicyEndReason.PERIOD_ENDED: "Expired at the end of its period.",
    },
    "zh-CN": {
        PolicyEndReason.COOLING_OFF_CANCELLATION: "犹豫期内退保，保费全额退还。",
        PolicyEndReason.SURRENDER: "已退保，未满期保费扣除手续费后退还。",
        PolicyEndReason.PREMIUM_UNPAID: "宽限期后仍未缴费，保单已失效。",
        PolicyEndReason.PERIOD_ENDED: "保险期间届满，保单已终止。",
    },
}

#: The end reasons written as prose before the codes (no note was given then).
LEGACY_END_REASONS = frozenset({"cooling-off cancellation", "surrender", "premium unpaid", "period ended"})

# Prose of quotes underwritten before the codes (resolvers.policies.underwriting then).
_LEGACY_PREFIXES: tuple[tuple[str, UnderwritingReason], ...] = (
    ("history of malignant tumour", UnderwritingReason.DECLINED_MALIGNANCY),
    ("pending medical investigation", UnderwritingReason.DECLINED_PENDING_INVESTIGATION),
    ("smoker loading", UnderwritingReason.SMOKER_LOADING),
    ("standard risk", UnderwritingReason.STANDARD_RISK),
)


def underwriting_reason(stored: str) -> UnderwritingReason:
    """The code of one stored quote reason (a code, or the prose of older quotes)."""
    try:
        return UnderwritingReason(stored)
    except ValueError:
        pass
    for prefix, code in _LEGACY_PREFIXES:
        if stored.startswith(prefix):
            return code
    if stored.endswith("malignant neoplasm declared"):
        return UnderwritingReason.DECLINED_MALIGNANCY
    return UnderwritingReason.CONDITIONS_EXCLUDED  # "<question>: <codes> excluded"


def underwriting_reasons(stored: Sequence[str]) -> list[UnderwritingReason]:
    """The codes of a quote's stored reasons, each once, in order."""
    return list(dict.fromkeys(underwriting_reason(r) for r in stored))


def render_underwriting_reason(code: UnderwritingReason, *, exclusions: Sequence[str], locale: Locale) -> str:
    """A quote reason in the reader's words (only the quote's own exclusions and the public loading)."""
    return UNDERWRITING_WORDING[locale][code].format(exclusions=", ".join(exclusions), loading=SMOKER_LOADING)


def end_reason(status: PolicyStatus) -> PolicyEndReason | None:
    """Why a policy of ``status`` ended (None while it is active)."""
    return END_REASON_OF_STATUS.get(status)


def end_note(stored: str | None) -> str | None:
    """The requester's own note on a policy's end (None when none was given)."""
    if stored is None or stored in LEGACY_END_REASONS:
        return None
    return stored


def render_end_reason(code: PolicyEndReason, *, locale: Locale) -> str:
    """A policy's end reason in the reader's words."""
    return END_WORDING[locale][code]
