"""Reason codes: every parameter carries its field's readers, and no wording shows a parameter to a role outside them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.auth import Role
from core.settings import Settings
from resolvers.claims.eob import BenefitCode, EobLine, ExplanationOfBenefits, read_eob, rejected_after_review
from resolvers.claims.models import ClaimState
from resolvers.claims.reasons import (
    BENEFIT_CODES,
    BENEFIT_WORDING,
    LOCALES,
    PARAMS,
    PUBLIC_WORDING,
    STAFF_WORDING,
    Reason,
    ReasonCode,
    eob_summary,
    negotiate_locale,
    render_reason,
)
from schema import build_schema
from schema.permissions import declared_roles

ROLES = [r.value for r in Role]


def test_every_code_has_wording_for_staff_and_in_every_locale() -> None:
    assert set(STAFF_WORDING) == set(ReasonCode)
    for locale in LOCALES:
        assert set(PUBLIC_WORDING[locale]) == set(ReasonCode), locale
        assert set(BENEFIT_WORDING[locale]) == BENEFIT_CODES, locale
        assert set(BenefitCode) | {"COVERED_IN_FULL"} == BENEFIT_CODES, locale


def test_each_parameter_is_readable_by_exactly_the_readers_of_its_source_field() -> None:
    schema = build_schema(Settings())._schema
    for name, param in PARAMS.items():
        if param.source is None:
            continue
        type_name, field_name = param.source.split(".")
        declared = declared_roles(schema.type_map[type_name], field_name)  # type: ignore[arg-type]
        assert declared is not None and frozenset(declared) == param.readers, name


def test_a_parameter_without_declared_readers_is_refused() -> None:
    with pytest.raises(ValueError, match="undeclared"):
        Reason(ReasonCode.OTHER, {"riskScore": 0.5})


_TOKEN = st.text(alphabet="0123456789abcdef", min_size=10, max_size=10).map(lambda h: f"<{h}>")


@settings(max_examples=60, deadline=None)
@given(code=st.sampled_from(list(ReasonCode)), tokens=st.lists(_TOKEN, min_size=len(PARAMS), max_size=len(PARAMS),
                                                               unique=True),
       role=st.sampled_from(ROLES), locale=st.sampled_from(LOCALES))
def test_no_wording_shows_a_parameter_to_a_role_outside_its_readers(code: ReasonCode, tokens: list[str], role: str,
                                                                    locale: Any) -> None:
    params = dict(zip(PARAMS, tokens, strict=True))
    text = render_reason(code, params, role=role, locale=locale)
    for name, token in params.items():
        if role not in PARAMS[name].readers:
            assert token not in text, (name, text)
    assert "{" not in text and "}" not in text


def test_staff_read_the_detail_and_customers_the_plain_words() -> None:
    risk = Reason(ReasonCode.RISK_ASSESSED, {"level": "high", "score": 0.0119, "rules": ["DUPLICATE_SUSPECTED"],
                                             "rulesVersion": "2026.06-1"}).stored_params()
    assert render_reason(ReasonCode.RISK_ASSESSED, risk, role="adjuster", locale="zh-CN") == \
        "risk assessed: high, score 0.0119; rules DUPLICATE_SUSPECTED (version 2026.06-1)"
    assert render_reason(ReasonCode.RISK_ASSESSED, risk, role="customer", locale="zh-CN") == "已完成自动审核。"
    assert render_reason(ReasonCode.RISK_ASSESSED, risk, role="partner", locale="en") == "Automatic checks completed."
    paid = {"seq": 1, "amount": "6750.00", "payee": "customer", "key": "pay-key-0001"}
    assert render_reason(ReasonCode.PAID, paid, role="admin") == "payment 1 of 6750.00 to the customer, key pay-key-0001"
    assert render_reason(ReasonCode.PAID, paid, role="auditor") == "payment 1 of 6750.00 to the customer"
    assert render_reason(ReasonCode.PAID, paid, role="customer", locale="en") == "Paid 6750.00 to the insured."
    assert render_reason(ReasonCode.PAID, paid, role="customer") == "已支付 6750.00 元（收款方：被保险人）。"  # noqa: RUF001
    bill = {"billNumber": "B-77", "amount": "1800.50"}
    assert render_reason(ReasonCode.SIGNED_BILL_VERIFIED, bill, role="partner", locale="en") == \
        "Hospital bill B-77 verified, 1800.50."
    assert render_reason(ReasonCode.SIGNED_BILL_VERIFIED, bill, role="customer", locale="en") == \
        "Hospital bill verified, 1800.50."
    assert render_reason("NO_SUCH_CODE", {"note": "x"}, role="customer", locale="en") == "Claim record updated."


@pytest.mark.parametrize(("header", "locale"), [
    (None, "zh-CN"), ("", "zh-CN"), ("en-US,en;q=0.9", "en"), ("fr-FR, en;q=0.5", "en"), ("zh-TW", "zh-CN"),
    ("de", "zh-CN"), ("en;q=0, zh;q=0.1", "zh-CN"), ("*", "zh-CN"), ("en;q=0.4, zh-CN;q=0.8", "zh-CN"),
    ("en;q=bogus, en-GB", "en"), (";;,,", "zh-CN"),
])
def test_the_locale_follows_accept_language(header: str | None, locale: str) -> None:
    assert negotiate_locale(header) == locale


def test_explanation_of_benefits_summary_is_said_in_the_readers_language() -> None:
    eob = read_eob({"claimCodes": [], "lines": [{"itemCode": "BED-01", "codes": ["DEDUCTIBLE", "COPAY"]}]})
    assert eob_summary(eob, locale="en") == ["BED-01: Part of the amount counts towards your annual deductible.",
                                             "BED-01: Your co-payment share is deducted."]
    assert eob_summary(read_eob({"claimCodes": ["REJECTED_AFTER_REVIEW"], "lines": []}), locale="zh-CN") == \
        ["经审核，本次理赔未获赔付。如有疑问请联系我们。"]  # noqa: RUF001
    assert eob_summary(read_eob({"lines": []}), locale="en") == \
        ["Your claim is covered in full after deductible and co-payment."]


def test_every_stored_form_of_an_explanation_of_benefits_reads_back_typed() -> None:
    """Forms written before a field existed read as zero (amounts) or unknown (annual limit)."""
    old = read_eob({"claimed": "500", "payable": "0", "outcome": "rejected", "lines": [],
                    "claimCodes": ["REJECTED_AFTER_REVIEW", "NO_SUCH_CODE"]})
    assert old == rejected_after_review(Decimal("500.00"))
    assert old.annual_limit is None and old.deductible == Decimal("0.00")
    new = ExplanationOfBenefits(
        outcome=ClaimState.PARTIALLY_APPROVED, claimed=Decimal("800.00"), payable=Decimal("612.00"),
        deductible=Decimal("100.00"), copay=Decimal("68.00"), annual_limit=Decimal("200000.00"),
        annual_limit_used=Decimal("1612.00"),
        lines=(EobLine("BED-01", "inpatient", Decimal("700.00"), Decimal("700.00"), Decimal("100.00"),
                       Decimal("60.00"), Decimal("540.00"), (BenefitCode.DEDUCTIBLE, BenefitCode.COPAY)),
               EobLine("SPA-1", "wellness", Decimal("100.00"), codes=(BenefitCode.NOT_COVERED,))))
    assert read_eob(new.stored()) == new
