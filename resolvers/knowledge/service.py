"""Knowledge articles: write, submit, approve (publish), reject and retire versions. The caller owns the
transaction.

Lifecycle of a version: DRAFT -> IN_REVIEW -> PUBLISHED (approved) -> SUPERSEDED | RETIRED; a
rejected version goes back to DRAFT. Editing an article whose newest version is published (or
retired) starts a new DRAFT version copied from it; the published one stays served until the new
one is approved. Only PUBLISHED versions are served (search, coverage evidence, customers, bot).

Four eyes: nobody approves or rejects a version they wrote or submitted (``OWN_VERSION``).
Text is stored as written, markup included, and returned verbatim; it is never interpreted.

Other domains (the service desk, the bot) call :mod:`resolvers.knowledge.search` and
:mod:`resolvers.knowledge.graph`; this module is for authoring and reading articles.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import (
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from core.event_stream import Actor
from core.roles import INTERNAL
from resolvers.knowledge import events
from resolvers.knowledge.models import (
    ArticleState,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeIndexState,
    VersionState,
)

__all__ = [
    "MAX_BODY",
    "MAX_TEMPLATE",
    "MAX_TEMPLATES",
    "MAX_TITLE",
    "REJECTION_REASONS",
    "articles_query",
    "bump_index_stamp",
    "create_article",
    "edit_article",
    "get_article",
    "get_version",
    "latest_version",
    "retire_article",
    "review_article",
    "served_version",
    "submit_article",
    "versions_of",
]

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_TEMPLATES = 10
MAX_TEMPLATE = 1_000
#: Why an approver sends a version back (codes, not prose: the event stream carries them).
REJECTION_REASONS = frozenset({"INACCURATE", "INCOMPLETE", "UNCLEAR", "OUT_OF_DATE", "NOT_COMPLIANT", "OTHER"})
_REASON = re.compile(r"^[A-Z][A-Z_]{1,39}$")


def _actor(principal: Principal) -> Actor:
    return Actor.of(principal)


def _check_version(article: KnowledgeArticle, expected: int | None) -> None:
    if expected is not None and article.version != expected:
        raise StaleVersionError(f"the article is at version {article.version}, not {expected}", field="expectedVersion")


def _text_errors(title: str | None, body: str | None, templates: Sequence[str] | None) -> list[ValidationError]:
    errors: list[ValidationError] = [
        ValidationError(f"{name} contains a NUL character", field=name, code="BAD_TEXT")
        for name, value in (("title", title), ("body", body), *((f"replyTemplates[{i}]", t)
                                                                for i, t in enumerate(templates or ())))
        if value is not None and "\x00" in value]
    if errors:
        return errors
    if title is not None:
        if not title.strip():
            errors.append(ValidationError("the title is empty", field="title", code="EMPTY_TEXT"))
        elif len(title) > MAX_TITLE:
            errors.append(ValidationError(f"the title has more than {MAX_TITLE} characters", field="title",
                                          code="TEXT_TOO_LONG"))
    if body is not None:
        if not body.strip():
            errors.append(ValidationError("the body is empty", field="body", code="EMPTY_TEXT"))
        elif len(body) > MAX_BODY:
            errors.append(ValidationError(f"the body has more than {MAX_BODY} characters", field="body",
                                          code="TEXT_TOO_LONG"))
    if templates is not None:
        if len(templates) > MAX_TEMPLATES:
            errors.append(ValidationError(f"at most {MAX_TEMPLATES} reply templates", field="replyTemplates",
                                          code="TOO_MANY_TEMPLATES"))
        for i, t in enumerate(templates):
            if not t.strip():
                errors.append(ValidationError("a reply template is empty", field=f"replyTemplates[{i}]",
                                              code="EMPTY_TEXT"))
            elif len(t) > MAX_TEMPLATE:
                errors.append(ValidationError(f"a reply template has more than {MAX_TEMPLATE} characters",
                                              field=f"replyTemplates[{i}]", code="TEXT_TOO_LONG"))
    return errors


# --- reading ---------------------------------------------------------------------------------------


def _visible(principal: Principal) -> Any:
    """Staff and auditors read every article (drafts too); everyone else only served ones."""
    if principal.role in INTERNAL:
        return True
    return KnowledgeArticle.state == ArticleState.PUBLISHED


def get_article(session: Session, *, principal: Principal, article_id: int, lock: bool = False) -> KnowledgeArticle:
    """An article ``principal`` may read (a customer: served ones only), else NotFoundError."""
    stmt = select(KnowledgeArticle).where(KnowledgeArticle.id == article_id)
    if principal.role not in INTERNAL:
        stmt = stmt.where(KnowledgeArticle.state == ArticleState.PUBLISHED)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise NotFoundError("article not found", field="articleId")
    return row


def get_version(session: Session, *, principal: Principal, version_id: int) -> KnowledgeArticleVersion:
    """A version ``principal`` may read (others than staff and auditors: a served one only), else NotFoundError."""
    row = session.get(KnowledgeArticleVersion, version_id)
    if row is None or (principal.role not in INTERNAL and row.state is not VersionState.PUBLISHED):
        raise NotFoundError("article version not found", field="id")
    return row


def articles_query(principal: Principal, *, states: Sequence[ArticleState] = ()) -> Select[Any]:
    """The articles ``principal`` may read, filtered by state (a page is cut by the caller)."""
    stmt = select(KnowledgeArticle)
    if principal.role not in INTERNAL:
        stmt = stmt.where(KnowledgeArticle.state == ArticleState.PUBLISHED)
    if states:
        stmt = stmt.where(KnowledgeArticle.state.in_(list(states)))
    return stmt


def latest_version(session: Session, article: KnowledgeArticle) -> KnowledgeArticleVersion:
    """The newest version of ``article`` (a draft, in review, or the served one)."""
    row = session.scalar(select(KnowledgeArticleVersion).where(
        KnowledgeArticleVersion.article_id == article.id, KnowledgeArticleVersion.number == article.latest_number))
    assert row is not None
    return row


def served_version(session: Session, article: KnowledgeArticle) -> KnowledgeArticleVersion | None:
    """The version served to customers, the bot and search (None: not published)."""
    if article.served_version_id is None or article.state is not ArticleState.PUBLISHED:
        return None
    return session.get(KnowledgeArticleVersion, article.served_version_id)


def versions_of(session: Session, *, article_ids: Sequence[int]) -> dict[int, list[KnowledgeArticleVersion]]:
    """Every version of each article, newest first, one query."""
    out: dict[int, list[KnowledgeArticleVersion]] = {a: [] for a in article_ids}
    stmt = select(KnowledgeArticleVersion).where(KnowledgeArticleVersion.article_id.in_(list(article_ids))).order_by(
        KnowledgeArticleVersion.article_id, KnowledgeArticleVersion.number.desc())
    for row in session.scalars(stmt):
        out[row.article_id].append(row)
    return out


# --- writing ---------------------------------------------------------------------------------------


def create_article(session: Session, *, principal: Principal, title: str, body: str, reply_templates: Sequence[str],
                   now: dt.datetime) -> KnowledgeArticle:
    """A new article with its first DRAFT version; every input error at once."""
    with collect_errors() as errors:
        for e in _text_errors(title, body, reply_templates):
            errors.add(e)
        errors.raise_if_any()
    article = KnowledgeArticle(state=ArticleState.DRAFT, latest_number=1, created_by=principal.subject, index_stamp=0)
    session.add(article)
    session.flush()
    version = KnowledgeArticleVersion(article_id=article.id, number=1, state=VersionState.DRAFT, title=title,
                                      body=body, reply_templates=list(reply_templates), author=principal.subject,
                                      created_at=now)
    session.add(version)
    events.publish_article(session, article, events.ArticleVersionDrafted(
        article_id=article.id, version_number=1, version_state=VersionState.DRAFT, article_state=article.state),
        actor=_actor(principal))
    return article


def edit_article(session: Session, *, principal: Principal, article_id: int, title: str | None, body: str | None,
                 reply_templates: Sequence[str] | None, expected_version: int | None,
                 now: dt.datetime) -> KnowledgeArticle:
    """Change the draft, or start a new DRAFT version when the newest is published or retired.

    A version in review is refused (``IN_REVIEW``: the approver reads what was submitted).
    """
    article = get_article(session, principal=principal, article_id=article_id, lock=True)
    _check_version(article, expected_version)
    latest = latest_version(session, article)
    with collect_errors() as errors:
        for e in _text_errors(title, body, reply_templates):
            errors.add(e)
        if latest.state is VersionState.IN_REVIEW:
            errors.add(InvalidTransitionError("the newest version is in review: wait for the review",
                                              field="articleId", code="IN_REVIEW"))
        errors.raise_if_any()
    if latest.state is VersionState.DRAFT:
        target = latest
        target.author = principal.subject if target.author != principal.subject else target.author
    else:
        target = KnowledgeArticleVersion(article_id=article.id, number=latest.number + 1, state=VersionState.DRAFT,
                                         title=latest.title, body=latest.body,
                                         reply_templates=list(latest.reply_templates), author=principal.subject,
                                         created_at=now)
        session.add(target)
        article.latest_number = target.number
    if title is not None:
        target.title = title
    if body is not None:
        target.body = body
    if reply_templates is not None:
        target.reply_templates = list(reply_templates)
    target.rejection_reason = None
    article.updated_at = now
    events.publish_article(session, article, events.ArticleVersionDrafted(
        article_id=article.id, version_number=target.number, version_state=VersionState.DRAFT,
        article_state=article.state), actor=_actor(principal))
    return article


def submit_article(session: Session, *, principal: Principal, article_id: int, expected_version: int | None,
                   now: dt.datetime) -> KnowledgeArticle:
    """Send the draft to review."""
    article = get_article(session, principal=principal, article_id=article_id, lock=True)
    _check_version(article, expected_version)
    latest = latest_version(session, article)
    if latest.state is not VersionState.DRAFT:
        raise InvalidTransitionError(f"the newest version is {latest.state.value}, not a draft", field="articleId")
    latest.state = VersionState.IN_REVIEW
    latest.submitted_by = principal.subject
    latest.submitted_at = now
    article.updated_at = now
    events.publish_article(session, article, events.ArticleSubmitted(
        article_id=article.id, version_number=latest.number, version_state=latest.state,
        article_state=article.state), actor=_actor(principal))
    return article


def bump_index_stamp(session: Session) -> int:
    """The next search-index generation (the row lock orders concurrent publishers).

    The first publish creates the row with a random index id (so a copied or restored database is
    never confused with another by a process's index); of two first publishers racing to create
    it, the second finds it made and bumps it (a savepoint)."""
    bump = update(KnowledgeIndexState).where(KnowledgeIndexState.id == 1).values(stamp=KnowledgeIndexState.stamp + 1)
    if session.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(KnowledgeIndexState(id=1, index_id=str(uuid.uuid4()), stamp=1))
            return 1
        except IntegrityError:
            session.execute(bump)
    stamp = session.scalar(select(KnowledgeIndexState.stamp).where(KnowledgeIndexState.id == 1))
    return int(stamp or 0)


def review_article(session: Session, *, principal: Principal, article_id: int, approve: bool, reason: str | None,
                   expected_version: int | None, now: dt.datetime) -> KnowledgeArticle:
    """Approve (publish: the version is served, the previous one SUPERSEDED) or reject (back to DRAFT, with a
    reason code) the version in review. Never one's own (``OWN_VERSION``)."""
    article = get_article(session, principal=principal, article_id=article_id, lock=True)
    _check_version(article, expected_version)
    latest = latest_version(session, article)
    with collect_errors() as errors:
        if latest.state is not VersionState.IN_REVIEW:
            errors.add(InvalidTransitionError(f"the newest version is {latest.state.value}, not in review",
                                              field="articleId"))
        elif principal.subject in (latest.author, latest.submitted_by):
            errors.add(ForbiddenError("four eyes: you wrote or submitted this version; another approver decides",
                                      field="articleId", code="OWN_VERSION"))
        if not approve:
            if reason is None:
                errors.add(ValidationError("say why (a reason code)", field="reason", code="REASON_REQUIRED"))
            elif not _REASON.match(reason) or reason not in REJECTION_REASONS:
                errors.add(ValidationError(f"reason: one of {sorted(REJECTION_REASONS)}", field="reason",
                                           code="BAD_REASON"))
        errors.raise_if_any()
    latest.reviewed_by = principal.subject
    latest.reviewed_at = now
    article.updated_at = now
    if not approve:
        assert reason is not None
        latest.state = VersionState.DRAFT
        latest.rejection_reason = reason
        events.publish_article(session, article, events.ArticleRejected(
            article_id=article.id, version_number=latest.number, version_state=latest.state,
            article_state=article.state, reason=reason), actor=_actor(principal))
        return article
    previous = served_version(session, article)
    if previous is not None:
        previous.state = VersionState.SUPERSEDED
    latest.state = VersionState.PUBLISHED
    latest.published_at = now
    article.state = ArticleState.PUBLISHED
    article.served_version_id = latest.id
    article.index_stamp = bump_index_stamp(session)
    events.publish_article(session, article, events.ArticlePublished(
        article_id=article.id, version_number=latest.number, version_state=latest.state,
        article_state=article.state, superseded_number=previous.number if previous else None),
        actor=_actor(principal))
    return article


def retire_article(session: Session, *, principal: Principal, article_id: int, expected_version: int | None,
                   now: dt.datetime) -> KnowledgeArticle:
    """Stop serving a published article (its served version becomes RETIRED; drafts stay)."""
    article = get_article(session, principal=principal, article_id=article_id, lock=True)
    _check_version(article, expected_version)
    served = served_version(session, article)
    if served is None:
        raise InvalidTransitionError(f"a {article.state.value} article is not served", field="articleId")
    served.state = VersionState.RETIRED
    article.state = ArticleState.RETIRED
    article.served_version_id = None
    article.updated_at = now
    article.index_stamp = bump_index_stamp(session)
    events.publish_article(session, article, events.ArticleRetired(
        article_id=article.id, version_number=served.number, version_state=served.state,
        article_state=article.state), actor=_actor(principal))
    return article

