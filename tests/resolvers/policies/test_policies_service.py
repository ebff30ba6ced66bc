"""Policy services: validation, underwriting, lifecycle, money and optimistic locking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import (
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
)
from core.pagination import PageRequest
from resolvers.policies import service
from resolvers.policies.models import PolicyStatus, QuoteStatus, UnderwritingOutcome
from resolvers.policies.underwriting import (
    DeclarationAnswer,
    UnderwritingReason,
    declaration_errors,
    underwrite,
)
from tests.factories import (
    ADMIN,
    healthy_answers,
    make_customer,
    make_policy,
    make_product,
    make_quote,
    resident_id,
)

TODAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)


@pytest.fixture
def s(session_factory) -> Session:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        yield session


def test_customer_gets_birth_date_and_gender_from_id_number(s: Session) -> None:
    c = make_customer(s, birth=dt.date(1988, 12, 31))
    assert c.birth_date == "1988-12-31" and c.birth_year == 1988
    assert c.phone.startswith("+86138")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("id_number", "110101199003077778", "BAD_ID_NUMBER"),
        ("id_number", "110001199001010052", "BAD_ID_NUMBER"),  # python-stdnum 2.2 raised KeyError on this region
        ("phone", "12345", "BAD_PHONE"),
        ("email", "not-an-email", "BAD_EMAIL"),
        ("name", "  ", "INVALID"),
    ],
)
def test_customer_input_is_validated(s: Session, field: str, value: str, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        make_customer(s, **{field: value})
    assert err.value.code == code


def test_duplicate_id_number_is_a_conflict(s: Session) -> None:
    number = resident_id(dt.date(1979, 5, 5))
    make_customer(s, id_number=number)
    with pytest.raises(ConflictError):
        make_customer(s, id_number=number)
    assert service.find_customer_by_id_number(s, id_number=number) is not None


def test_product_bands_must_be_contiguous(s: Session) -> None:
    with pytest.raises(ValidationError, match="contiguous"):
        make_product(
            s,
            premium_bands=[
                service.PremiumBandSpec(0, 30, Decimal(1)),
                service.PremiumBandSpec(40, 60, Decimal(2)),
            ],
        )


def test_quote_prices_by_age_band_and_smoker_loading(s: Session) -> None:
    product = make_product(s)
    young = make_customer(s, birth=dt.date(2000, 1, 1))
    older = make_customer(s, birth=dt.date(1980, 1, 1))
    assert make_quote(s, customer=young, product=product, today=TODAY).premium == Decimal("300.00")
    assert make_quote(s, customer=older, product=product, today=TODAY).premium == Decimal("600.00")
    smoker = [a if a.question != "smoker" else DeclarationAnswer("smoker", True) for a in healthy_answers()]
    assert make_quote(s, customer=older, product=product, today=TODAY, answers=smoker).premium == Decimal(
        "720.00"
    )


def test_underwriting_outcomes() -> None:
    assert underwrite(healthy_answers()).outcome is UnderwritingOutcome.ACCEPT
    d = underwrite(healthy_answers(chronic=("E11.9",)))
    assert d.outcome is UnderwritingOutcome.ACCEPT_WITH_EXCLUSIONS and d.exclusions == ["E11"]
    assert underwrite(healthy_answers(cancer=("C50.9",))).outcome is UnderwritingOutcome.DECLINE
    assert underwrite(healthy_answers(hospitalized_2y=("C34.1",))).outcome is UnderwritingOutcome.DECLINE


def test_underwriting_gives_reason_codes_never_diagnoses() -> None:
    assert underwrite(healthy_answers()).reasons == [UnderwritingReason.STANDARD_RISK]
    d = underwrite([*healthy_answers(chronic=("E11.9", "I10"))[:-1], DeclarationAnswer("smoker", True)])
    assert d.reasons == [UnderwritingReason.CONDITIONS_EXCLUDED, UnderwritingReason.SMOKER_LOADING]
    assert underwrite(healthy_answers(hospitalized_2y=("C34.1",))).reasons == [UnderwritingReason.DECLINED_MALIGNANCY]
    pending = [a if a.question != "pending_investigation" else DeclarationAnswer(a.question, True)
               for a in healthy_answers()]
    assert underwrite(pending).reasons == [UnderwritingReason.DECLINED_PENDING_INVESTIGATION]


def test_declaration_errors_are_all_reported_with_their_answer() -> None:
    answers = [DeclarationAnswer("chronic", True), DeclarationAnswer("smoker", False, ("I10",)),
               DeclarationAnswer("hospitalized_2y", True, ("NOPE",)), DeclarationAnswer("smoker", False),
               DeclarationAnswer("tattoos", True)]
    errors = declaration_errors(answers)
    assert [(e.field, e.code) for e in errors] == [
        ("answers[0].diagnoses", "INCOMPLETE"),
        ("answers[1].diagnoses", "INCONSISTENT"),
        ("answers[2].diagnoses[0]", "BAD_ICD10"),
        ("answers[3].question", "DUPLICATE_ANSWER"),
        ("answers[4].question", "UNKNOWN_QUESTION"),
        ("answers", "INCOMPLETE"),  # cancer and pending_investigation unanswered
    ]
    assert declaration_errors(healthy_answers(chronic=("E11.9",))) == []


@pytest.mark.parametrize(
    "answers",
    [
        healthy_answers()[:-1],  # incomplete
        [*healthy_answers(), DeclarationAnswer("smoker", False)],  # duplicate
        healthy_answers(chronic=("NOT-A-CODE",)),
        healthy_answers(chronic=("XX",)),  # a chapter of the WHO list, not a diagnosis
        healthy_answers(chronic=("E10-E14",)),  # a block
        [DeclarationAnswer("chronic", True), *healthy_answers()[2:], DeclarationAnswer("cancer", False)],
        [*healthy_answers()[:-1], DeclarationAnswer("smoker", False, ("I10",))],
    ],
)
def test_malformed_declarations_are_refused(answers: list[DeclarationAnswer]) -> None:
    with pytest.raises(ValidationError):
        underwrite(answers)


@given(st.lists(st.sampled_from(["E11.9", "I10", "J45.9", "K21.9", "M54.5", "J18.9"]), max_size=4))
def test_exclusions_are_categories_of_declared_codes(codes: list[str]) -> None:
    d = underwrite(healthy_answers(chronic=tuple(codes)) if codes else healthy_answers())
    assert d.exclusions == list(dict.fromkeys(c.split(".")[0] for c in codes))


def test_issue_binds_quote_once(s: Session) -> None:
    quote = make_quote(s, customer=make_customer(s), product=make_product(s), today=TODAY)
    policy = service.issue_policy(s, principal=ADMIN, quote_id=quote.id, today=TODAY, now=NOW)
    assert policy.status is PolicyStatus.ACTIVE and policy.period_end == dt.date(2027, 5, 31)
    assert quote.status is QuoteStatus.BOUND
    with pytest.raises(ConflictError):
        service.issue_policy(s, principal=ADMIN, quote_id=quote.id, today=TODAY, now=NOW)


def test_declined_quote_cannot_issue(s: Session) -> None:
    quote = make_quote(
        s,
        customer=make_customer(s),
        product=make_product(s),
        today=TODAY,
        answers=healthy_answers(cancer=("C50.9",)),
    )
    assert quote.status is QuoteStatus.DECLINED
    with pytest.raises(InvalidTransitionError):
        service.issue_policy(s, principal=ADMIN, quote_id=quote.id, today=TODAY, now=NOW)


def test_surrender_refunds_unearned_premium_less_expenses(s: Session) -> None:
    policy = make_policy(s, today=TODAY)
    halfway = policy.period_start + dt.timedelta(days=182)
    service.surrender_policy(
        s, principal=ADMIN, policy_id=policy.id, expected_version=None, today=halfway, reason=""
    )
    total = (policy.period_end - policy.period_start).days + 1
    remaining = (policy.period_end - halfway).days
    expected = (policy.premium * remaining / total * Decimal("0.75")).quantize(Decimal("0.01"))
    assert policy.status is PolicyStatus.SURRENDERED and policy.refund == expected
    with pytest.raises(InvalidTransitionError):
        service.surrender_policy(
            s, principal=ADMIN, policy_id=policy.id, expected_version=None, today=halfway, reason=""
        )


def test_cooling_off_cancellation_window(s: Session) -> None:
    p1 = make_policy(s, today=TODAY)
    service.cancel_in_cooling_off(
        s, principal=ADMIN, policy_id=p1.id, expected_version=None, today=TODAY + dt.timedelta(days=15)
    )
    assert p1.status is PolicyStatus.CANCELLED and p1.refund == p1.premium
    p2 = make_policy(s, today=TODAY)
    with pytest.raises(InvalidTransitionError) as err:
        service.cancel_in_cooling_off(
            s, principal=ADMIN, policy_id=p2.id, expected_version=None, today=TODAY + dt.timedelta(days=16)
        )
    assert err.value.code == "COOLING_OFF_OVER"


def test_renewal_reprices_and_happens_once(s: Session) -> None:
    customer = make_customer(s, birth=dt.date(1996, 6, 10))  # 29 at start, 30 at renewal -> same band
    policy = make_policy(s, today=TODAY, customer=customer)
    with pytest.raises(InvalidTransitionError):
        service.renew_policy(
            s, principal=ADMIN, policy_id=policy.id, expected_version=None, today=TODAY, now=NOW
        )
    day = policy.period_end - dt.timedelta(days=10)
    renewed = service.renew_policy(
        s, principal=ADMIN, policy_id=policy.id, expected_version=None, today=day, now=NOW
    )
    assert renewed.period_start == policy.period_end + dt.timedelta(days=1)
    assert renewed.renewed_from_id == policy.id and renewed.insured_age == 30
    with pytest.raises(ConflictError):
        service.renew_policy(
            s, principal=ADMIN, policy_id=policy.id, expected_version=None, today=day, now=NOW
        )


def test_stale_expected_version_is_refused(s: Session) -> None:
    policy = make_policy(s, today=TODAY)
    service.endorse_contact(
        s,
        principal=ADMIN,
        policy_id=policy.id,
        expected_version=policy.version,
        phone="13912345678",
        email=None,
        today=TODAY,
    )
    s.flush()
    with pytest.raises(StaleVersionError):
        service.endorse_contact(
            s,
            principal=ADMIN,
            policy_id=policy.id,
            expected_version=1,
            phone="13912345679",
            email=None,
            today=TODAY,
        )


def test_concurrent_writers_are_fenced_by_version(session_factory) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.orm.exc import StaleDataError

    with session_factory() as s:
        pid = make_policy(s, today=TODAY).id
        s.commit()
    a, b = session_factory(), session_factory()
    try:
        held = service.get_policy(b, principal=ADMIN, policy_id=pid)  # b read version 1 earlier...
        b.commit()
        service.surrender_policy(
            a, principal=ADMIN, policy_id=pid, expected_version=None, today=TODAY, reason=""
        )
        a.commit()  # ...a moved it to version 2
        with pytest.raises(StaleDataError):
            service.lapse_policy(
                b, principal=ADMIN, policy_id=held.id, expected_version=None, today=TODAY, reason=""
            )
    finally:
        a.close()
        b.close()


def test_customer_sees_only_own_policies(s: Session) -> None:
    mine = make_policy(s, today=TODAY)
    theirs = make_policy(s, today=TODAY)
    me = Principal(subject="c", role=Role.CUSTOMER, customer_id=mine.customer_id)
    assert service.get_policy(s, principal=me, policy_id=mine.id).id == mine.id
    with pytest.raises(NotFoundError):
        service.get_policy(s, principal=me, policy_id=theirs.id)
    page = service.list_policies(s, principal=me, page=PageRequest(first=10))
    assert [p.id for p in page.items] == [mine.id]
    assert service.count_policies(s, principal=me) == 1
    partner = Principal(subject="p", role=Role.PARTNER, partner_id=1)
    assert service.list_policies(s, principal=partner, page=PageRequest(first=10)).items == []
    assert service.count_policies(s, principal=partner) == 0
    assert service.get_quote(s, principal=me, quote_id=mine.quote_id).id == mine.quote_id  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        service.get_quote(s, principal=me, quote_id=theirs.quote_id)  # type: ignore[arg-type]


def test_keyset_pages_walk_everything_once(s: Session) -> None:
    product = make_product(s)
    ids = [make_policy(s, today=TODAY, product=product).id for _ in range(7)]
    seen: list[int] = []
    after = None
    while True:
        page = service.list_policies(s, principal=ADMIN, page=PageRequest(first=3, after=after))
        seen += [p.id for p in page.items]
        if not page.has_next:
            break
        after = page.end_cursor
    assert seen == ids
    back: list[int] = []
    before = None
    while True:
        page = service.list_policies(s, principal=ADMIN, page=PageRequest(last=3, before=before))
        back = [p.id for p in page.items] + back
        if not page.has_previous:
            break
        before = page.start_cursor
    assert back == ids


def test_expiry_job_ends_policies_past_their_period(s: Session) -> None:
    policy = make_policy(s, today=TODAY)
    assert service.expire_due_policies(s, today=policy.period_end) == 0
    assert service.expire_due_policies(s, today=policy.period_end + dt.timedelta(days=1)) == 1
    assert policy.status is PolicyStatus.EXPIRED
