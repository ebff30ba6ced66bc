"""Why things happened to a claim: reason codes with parameters, rendered per role and locale.

Timelines and decisions store a closed :class:`ReasonCode` and a dict of parameters, never
prose. Every parameter name is declared once in :data:`PARAMS` with the roles that may read
the field it comes from (a risk score carries ``Claim.riskScore``'s readers, an idempotency
key ``ClaimPayment.idempotencyKey``'s). :func:`render_reason` drops every parameter the
reader's role may not read and picks the wording: detailed English for risk readers (staff
and auditors), customer-facing Chinese or English for everyone else. A sentence is made of
segments; a segment naming a withheld parameter is left out, so nothing stands in for it.

Example::

    reason = Reason(ReasonCode.RISK_ASSESSED, {"level": "high", "score": 0.0119})
    render_reason(reason.code, reason.params, role="adjuster", locale="en")
    # 'risk assessed: high, score 0.0119'
    render_reason(reason.code, reason.params, role="customer", locale="zh-CN")
    # '已完成自动审核。'
"""

# The Chinese wording uses fullwidth punctuation on purpose.
# ruff: noqa: RUF001
from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from core.roles import CLAIM_READERS, INVESTIGATION_READERS, RISK_READERS, SIGNED_RECORD_READERS, STAFF
from resolvers.claims.eob import ExplanationOfBenefits

__all__ = [
    "BENEFIT_CODES",
    "DEFAULT_LOCALE",
    "LOCALES",
    "PARAMS",
    "Locale",
    "Param",
    "Reason",
    "ReasonCode",
    "eob_summary",
    "negotiate_locale",
    "render_reason",
    "wording_for",
]

Locale = Literal["zh-CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh-CN", "en")
DEFAULT_LOCALE: Locale = "zh-CN"


class ReasonCode(enum.StrEnum):
    """Every reason a claim's timeline or decision can give (closed: add one here and to the catalogue)."""

    REPORTED = "REPORTED"
    POSSIBLE_DUPLICATE = "POSSIBLE_DUPLICATE"
    LINE_ITEMS_ENTERED = "LINE_ITEMS_ENTERED"
    SUBMITTED = "SUBMITTED"
    RISK_ASSESSED = "RISK_ASSESSED"
    ROUTED_TO_INVESTIGATION = "ROUTED_TO_INVESTIGATION"
    ROUTED_TO_DOCUMENTS = "ROUTED_TO_DOCUMENTS"
    ROUTED_TO_REVIEW = "ROUTED_TO_REVIEW"
    FAST_CLAIM_APPROVED = "FAST_CLAIM_APPROVED"
    NOTHING_PAYABLE = "NOTHING_PAYABLE"
    ADJUDICATED = "ADJUDICATED"
    MOVED_BY_STAFF = "MOVED_BY_STAFF"
    PAID = "PAID"
    SIGNED_BILL_VERIFIED = "SIGNED_BILL_VERIFIED"
    DOCUMENT_UPLOADED = "DOCUMENT_UPLOADED"
    DOCUMENT_REQUESTED = "DOCUMENT_REQUESTED"
    DOCUMENT_REMINDED = "DOCUMENT_REMINDED"
    ORIGINAL_RECEIVED = "ORIGINAL_RECEIVED"
    INVESTIGATION_CONCLUDED = "INVESTIGATION_CONCLUDED"
    OTHER = "OTHER"


@dataclass(frozen=True)
class Param:
    """A reason parameter: the roles that may read it, and the schema field it derives from."""

    readers: frozenset[str]
    source: str | None  # "Type.field" whose declared roles ``readers`` must equal; None: no such field


#: Every parameter any reason may carry. Undeclared names are refused when a Reason is built.
PARAMS: dict[str, Param] = {
    "channel": Param(CLAIM_READERS, "Claim.channel"),
    "count": Param(CLAIM_READERS, "Claim.lineItems"),
    "source": Param(CLAIM_READERS, "ClaimLineItem.source"),
    "amount": Param(CLAIM_READERS, "Claim.claimedAmount"),
    "payable": Param(CLAIM_READERS, "Claim.approvedAmount"),
    "outcome": Param(CLAIM_READERS, "Claim.state"),
    "to": Param(CLAIM_READERS, "ClaimEvent.toState"),
    "seq": Param(CLAIM_READERS, "ClaimPayment.seq"),
    "payee": Param(CLAIM_READERS, "ClaimPayment.payeeKind"),
    "kind": Param(CLAIM_READERS, "ClaimDocument.kind"),
    "size": Param(CLAIM_READERS, "ClaimDocument.size"),
    "dueOn": Param(CLAIM_READERS, "DocumentRequest.dueOn"),
    "receivedOn": Param(CLAIM_READERS, "ClaimDocument.originalReceivedOn"),
    "level": Param(RISK_READERS, "Claim.riskLevel"),
    "score": Param(RISK_READERS, "Claim.riskScore"),
    "rules": Param(RISK_READERS, "RiskHint.code"),
    "rulesVersion": Param(RISK_READERS, "Claim.rulesVersion"),
    # why fast-claim did not apply: names the risk level and duplicate suspicion
    "blockers": Param(RISK_READERS, "Claim.riskLevel"),
    "actor": Param(RISK_READERS, "ClaimEvent.actor"),
    # the experiment arm that decided fast vs standard ("claim-fast:standard"): operations staff data
    "experiment": Param(RISK_READERS, None),
    # another claim's number: only roles that may read every claim (customers and hospitals
    # are row-scoped, and a duplicate link is a risk finding)
    "duplicateOf": Param(RISK_READERS, None),
    "key": Param(STAFF, "ClaimPayment.idempotencyKey"),
    # the investigation that held the claim and the adjuster's review of its survey report
    "investigation": Param(INVESTIGATION_READERS, "Investigation.reference"),
    "reportOutcome": Param(INVESTIGATION_READERS, "Investigation.reviewOutcome"),
    "billNumber": Param(SIGNED_RECORD_READERS, "SignedRecord.message"),
    # free text typed by staff (adjuster's note, transition reason, prose of old rows)
    "note": Param(STAFF, None),
}


@dataclass(frozen=True)
class Reason:
    """A reason code and its parameters (JSON values), as stored."""

    code: ReasonCode
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.params) - set(PARAMS))
        if unknown:  # a programming error: every parameter must declare its readers
            raise ValueError(f"undeclared reason parameters {unknown} for {self.code}")

    def stored_params(self) -> dict[str, Any]:
        """Parameters as JSON values (decimals as strings, None dropped)."""
        return {k: _json_value(v) for k, v in self.params.items() if v is not None}


def _json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


# --- wording -------------------------------------------------------------------------------------

Segments = tuple[str, ...]

#: Detailed wording for risk readers (staff, auditors): English, every readable parameter.
STAFF_WORDING: dict[ReasonCode, Segments] = {
    ReasonCode.REPORTED: ("reported via {channel}",),
    ReasonCode.POSSIBLE_DUPLICATE: ("possible duplicate", " of claim {duplicateOf}", " (same insured, hospital and dates)"),
    ReasonCode.LINE_ITEMS_ENTERED: ("{count} line items from {source}",),
    ReasonCode.SUBMITTED: ("submitted by the claimant",),
    ReasonCode.RISK_ASSESSED: ("risk assessed", ": {level}", ", score {score}", "; rules {rules}",
                               " (version {rulesVersion})"),
    ReasonCode.ROUTED_TO_INVESTIGATION: ("routed to investigation", ": high risk, {rules}"),
    ReasonCode.ROUTED_TO_DOCUMENTS: ("waiting for documents", ": {kind} missing"),
    ReasonCode.ROUTED_TO_REVIEW: ("routed to review", ", not fast-claim: {blockers}", " (experiment {experiment})"),
    ReasonCode.FAST_CLAIM_APPROVED: ("fast-claim: low risk, complete invoice data", ", {payable} payable",
                                     " (experiment {experiment})"),
    ReasonCode.NOTHING_PAYABLE: ("approved with nothing payable: the annual deductible absorbs the amount",),
    ReasonCode.ADJUDICATED: ("adjudicated", " by {actor}", ": {outcome}", ", payable {payable}", " — {note}"),
    ReasonCode.MOVED_BY_STAFF: ("moved", " to {to}", ": {note}"),
    ReasonCode.PAID: ("payment {seq} of {amount} to the {payee}", ", key {key}"),
    ReasonCode.SIGNED_BILL_VERIFIED: ("hospital bill", " {billNumber}", " verified (EIP-712)", ", {amount}"),
    ReasonCode.DOCUMENT_UPLOADED: ("{kind} uploaded", " ({size} bytes)"),
    ReasonCode.DOCUMENT_REQUESTED: ("{kind} requested", ", due {dueOn}"),
    ReasonCode.DOCUMENT_REMINDED: ("reminder: {kind} past due", " since {dueOn}"),
    ReasonCode.ORIGINAL_RECEIVED: ("paper original of {kind} received", " {receivedOn}"),
    ReasonCode.INVESTIGATION_CONCLUDED: ("investigation", " {investigation}", " concluded", ": report {reportOutcome}",
                                         "; back to review"),
    ReasonCode.OTHER: ("claim updated", ": {note}"),
}

#: Customer-facing wording (customers, hospitals), per locale.
PUBLIC_WORDING: dict[Locale, dict[ReasonCode, Segments]] = {
    "zh-CN": {
        ReasonCode.REPORTED: ("已登记理赔报案", "（{channel}）", "。"),
        ReasonCode.POSSIBLE_DUPLICATE: ("此申请与同一医院、相近日期的另一笔理赔可能重复，将由人工核对。",),
        ReasonCode.LINE_ITEMS_ENTERED: ("已录入 {count} 条费用明细", "（{source}）", "。"),
        ReasonCode.SUBMITTED: ("理赔申请已提交。",),
        ReasonCode.RISK_ASSESSED: ("已完成自动审核。",),
        ReasonCode.ROUTED_TO_INVESTIGATION: ("此理赔需要进一步核实，我们可能会与您联系。",),
        ReasonCode.ROUTED_TO_DOCUMENTS: ("请补充上传", "{kind}", "。"),
        ReasonCode.ROUTED_TO_REVIEW: ("理赔已转人工审核。",),
        ReasonCode.FAST_CLAIM_APPROVED: ("已通过快速理赔自动核定", "，应付金额 {payable} 元", "。"),
        ReasonCode.NOTHING_PAYABLE: ("理赔已核定，本次金额计入年度免赔额，无应付金额。",),
        ReasonCode.ADJUDICATED: ("理赔已审核", "：{outcome}", "，应付金额 {payable} 元", "。"),
        ReasonCode.MOVED_BY_STAFF: ("理赔状态已更新", "为：{to}", "。"),
        ReasonCode.PAID: ("已支付", " {amount} 元", "（收款方：{payee}）", "。"),
        ReasonCode.SIGNED_BILL_VERIFIED: ("医院电子账单已验证", "（账单号 {billNumber}）", "，金额 {amount} 元", "。"),
        ReasonCode.DOCUMENT_UPLOADED: ("已上传", "{kind}", "。"),
        ReasonCode.DOCUMENT_REQUESTED: ("请", "在 {dueOn} 前", "补充", "{kind}", "。"),
        ReasonCode.DOCUMENT_REMINDED: ("提醒：请尽快补充", "{kind}", "（已于 {dueOn} 到期）", "。"),
        ReasonCode.ORIGINAL_RECEIVED: ("已", "于 {receivedOn} ", "收到", "{kind}", "纸质原件。"),
        ReasonCode.INVESTIGATION_CONCLUDED: ("核实已完成，理赔继续审核。",),
        ReasonCode.OTHER: ("理赔记录已更新。",),
    },
    "en": {
        ReasonCode.REPORTED: ("Claim reported", " ({channel})", "."),
        ReasonCode.POSSIBLE_DUPLICATE: ("This claim may overlap another claim for the same hospital stay; "
                                        "our team will check it.",),
        ReasonCode.LINE_ITEMS_ENTERED: ("{count} invoice lines entered", " ({source})", "."),
        ReasonCode.SUBMITTED: ("Claim submitted.",),
        ReasonCode.RISK_ASSESSED: ("Automatic checks completed.",),
        ReasonCode.ROUTED_TO_INVESTIGATION: ("This claim needs further checks; we may contact you.",),
        ReasonCode.ROUTED_TO_DOCUMENTS: ("Please upload the ", "{kind}", "."),
        ReasonCode.ROUTED_TO_REVIEW: ("Our claims team is reviewing this claim.",),
        ReasonCode.FAST_CLAIM_APPROVED: ("Approved by fast claim", ": {payable} payable", "."),
        ReasonCode.NOTHING_PAYABLE: ("Approved; the amount counts towards the annual deductible, so nothing is "
                                     "payable.",),
        ReasonCode.ADJUDICATED: ("Claim decided", ": {outcome}", ", {payable} payable", "."),
        ReasonCode.MOVED_BY_STAFF: ("Claim status changed", " to: {to}", "."),
        ReasonCode.PAID: ("Paid", " {amount}", " to the {payee}", "."),
        ReasonCode.SIGNED_BILL_VERIFIED: ("Hospital bill", " {billNumber}", " verified", ", {amount}", "."),
        ReasonCode.DOCUMENT_UPLOADED: ("{kind} uploaded.",),
        ReasonCode.DOCUMENT_REQUESTED: ("Please send the ", "{kind}", " by {dueOn}", "."),
        ReasonCode.DOCUMENT_REMINDED: ("Reminder: please send the ", "{kind}", " (due {dueOn})", "."),
        ReasonCode.ORIGINAL_RECEIVED: ("Paper original of the ", "{kind}", " received", " on {receivedOn}", "."),
        ReasonCode.INVESTIGATION_CONCLUDED: ("The checks are complete; our claims team continues the review.",),
        ReasonCode.OTHER: ("Claim record updated.",),
    },
}

#: Display labels of enumerated parameter values in customer-facing wording.
LABELS: dict[Locale, dict[str, dict[str, str]]] = {
    "zh-CN": {
        "state": {"draft": "草稿", "submitted": "已提交", "documents_pending": "待补充材料",
                  "under_review": "审核中", "investigating": "调查中", "approved": "已核准赔付",
                  "partially_approved": "部分核准赔付", "rejected": "未获赔付", "paid": "已赔付",
                  "closed": "已结案", "reopened": "已重新开启"},
        "kind": {"invoice": "发票", "discharge_summary": "出院小结", "prescription": "处方",
                 "id_card": "身份证件", "other": "其他材料"},
        "channel": {"app": "App", "web": "网站", "phone": "电话", "agent": "代理人", "direct_billing": "医院直付"},
        "payee": {"customer": "被保险人", "hospital": "医院"},
        "source": {"hospital_einvoice": "医院电子发票", "customer_app": "客户App", "hospital_bill": "医院账单"},
    },
    "en": {
        "state": {"draft": "draft", "submitted": "submitted", "documents_pending": "waiting for documents",
                  "under_review": "under review", "investigating": "being checked", "approved": "approved",
                  "partially_approved": "partly approved", "rejected": "not approved", "paid": "paid",
                  "closed": "closed", "reopened": "reopened"},
        "kind": {"invoice": "invoice", "discharge_summary": "discharge summary", "prescription": "prescription",
                 "id_card": "ID card", "other": "document"},
        "channel": {"app": "app", "web": "web", "phone": "phone", "agent": "agent",
                    "direct_billing": "direct billing"},
        "payee": {"customer": "insured", "hospital": "hospital"},
        "source": {"hospital_einvoice": "hospital e-invoice", "customer_app": "customer app",
                   "hospital_bill": "hospital bill"},
    },
}
_LABEL_OF = {"to": "state", "outcome": "state", "kind": "kind", "channel": "channel", "payee": "payee",
             "source": "source"}

#: Benefit codes of the explanation of benefits, in the words the insured reads.
BENEFIT_WORDING: dict[Locale, dict[str, str]] = {
    "en": {
        "POLICY_NOT_IN_FORCE": "The policy was not in force on the date of the event.",
        "WAITING_PERIOD": "The event happened during the policy's waiting period.",
        "EXCLUDED_CONDITION": "The diagnosis is excluded from cover under this policy.",
        "NOT_COVERED": "This kind of item is not covered by the product.",
        "SUBLIMIT_REACHED": "The benefit limit for this kind of item is used up.",
        "ANNUAL_LIMIT_REACHED": "The policy's annual limit is used up.",
        "DEDUCTIBLE": "Part of the amount counts towards your annual deductible.",
        "COPAY": "Your co-payment share is deducted.",
        "REJECTED_AFTER_REVIEW": "After review, the claim was not approved. Contact us for details.",
        "COVERED_IN_FULL": "Your claim is covered in full after deductible and co-payment.",
    },
    "zh-CN": {
        "POLICY_NOT_IN_FORCE": "出险日保单不在保障期内。",
        "WAITING_PERIOD": "出险日在保单等待期内。",
        "EXCLUDED_CONDITION": "该诊断属于本保单的责任免除范围。",
        "NOT_COVERED": "该类费用不在本产品保障范围内。",
        "SUBLIMIT_REACHED": "该类费用的分项限额已用完。",
        "ANNUAL_LIMIT_REACHED": "本保单的年度限额已用完。",
        "DEDUCTIBLE": "部分金额计入您的年度免赔额。",
        "COPAY": "已扣除您的自付比例部分。",
        "REJECTED_AFTER_REVIEW": "经审核，本次理赔未获赔付。如有疑问请联系我们。",
        "COVERED_IN_FULL": "扣除免赔额和自付部分后，您的理赔已全额赔付。",
    },
}
BENEFIT_CODES = frozenset(BENEFIT_WORDING["en"])

_FORMATTER = string.Formatter()


@lru_cache(maxsize=512)
def _fields(segment: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in _FORMATTER.parse(segment) if name)


def wording_for(code: ReasonCode, *, detailed: bool, locale: Locale) -> Segments:
    """The segments a reader gets for ``code``."""
    return STAFF_WORDING[code] if detailed else PUBLIC_WORDING[locale][code]


def _display(name: str, value: Any, locale: Locale | None) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_display(name, v, locale) for v in value) or "none"
    if locale is not None and name in _LABEL_OF:
        return LABELS[locale][_LABEL_OF[name]].get(str(value), str(value))
    return str(value)


def render_reason(code: ReasonCode | str, params: Mapping[str, Any], *, role: str | None,
                  locale: Locale = DEFAULT_LOCALE) -> str:
    """The sentence ``role`` reads for a stored reason: withheld parameters leave their segment out.

    Risk readers (staff, auditors) get the detailed English wording; other roles get the
    customer-facing wording in ``locale``. An unknown code reads as OTHER.
    """
    try:
        rc = ReasonCode(code)
    except ValueError:
        rc = ReasonCode.OTHER
    detailed = role in RISK_READERS
    visible = {k: v for k, v in params.items() if k in PARAMS and role in PARAMS[k].readers and v is not None}
    shown = {k: _display(k, v, None if detailed else locale) for k, v in visible.items()}
    out = [seg.format_map(shown) for seg in wording_for(rc, detailed=detailed, locale=locale)
           if _fields(seg) <= shown.keys()]
    return "".join(out)


def eob_summary(eob: ExplanationOfBenefits, *, locale: Locale) -> list[str]:
    """The plain-language sentences of an explanation of benefits, from its codes."""
    words = BENEFIT_WORDING[locale]
    sentences = [words[c] for c in eob.claim_codes]
    for line in eob.lines:
        sentences += [f"{line.item_code}: {words[c]}" for c in line.codes]
    return sentences or [words["COVERED_IN_FULL"]]


@lru_cache(maxsize=256)
def negotiate_locale(accept_language: str | None) -> Locale:
    """The best of our locales for an ``Accept-Language`` header (RFC 9110 q-values); zh-CN by default."""
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        for p in rest.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return DEFAULT_LOCALE
        primary = tag.split("-")[0]
        if primary == "zh":
            return "zh-CN"
        if primary == "en":
            return "en"
    return DEFAULT_LOCALE

