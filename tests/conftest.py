"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with
OPSURE_TEST_DATABASE_URL), settings in a temporary data directory, an app and clients."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.audit import AuditKey, install_audit_key
from core.auth import Principal, Role, TokenKeys, issue_token
from core.crypto import FieldKeys, install_field_keys
from core.db import make_engine, make_session_factory
from core.settings import Settings
from ledger.commitments import TenantKey, current_tenant_key, install_tenant_key
from opsure.migrate import upgrade
from opsure.models import metadata
from opsure.runtime import Runtime

# strict_suite: skips and xfails fail, npm checks never skip; pytester: tests of that plugin.
pytest_plugins = ("pytester", "tests.strict_suite")

PG_URL = os.environ.get("OPSURE_TEST_DATABASE_URL")
FIELD_KEYS = FieldKeys.generate()
TENANT_KEY = TenantKey.generate()
TOKEN_KEYS = TokenKeys.generate()
AUDIT_KEY = AuditKey.generate()
install_audit_key(AUDIT_KEY)  # every audit digest of the suite is keyed, as in a deployment
# A mutation refusing with a code its error enum does not list fails the test (schema/errors.py).
os.environ.setdefault("OPSURE_STRICT_ERROR_CODES", "1")


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite file copied per test, or a PostgreSQL schema."""
    install_field_keys(FIELD_KEYS)
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh data directory for one test."""
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def database_url(_template_db: str, data_dir: Path) -> str:
    """A clean migrated database for one test."""
    if PG_URL:
        engine = make_engine(PG_URL)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    target = data_dir / "opsure.db"
    shutil.copyfile(_template_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """Settings pointing at the test's data directory and database."""
    return Settings(data_dir=data_dir, database_url=database_url, ledger_mode="off", anchoring_in_process=False)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """The test database's engine."""
    eng = make_engine(settings.resolved_database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def runtime(settings: Settings, engine: Engine) -> Runtime:
    """A runtime with in-memory keys shared by the whole test session."""
    install_field_keys(FIELD_KEYS)
    try:
        current_tenant_key()  # a test module may have installed its own key
    except RuntimeError:
        install_tenant_key(TENANT_KEY)
    return Runtime(settings, engine, make_session_factory(engine), TOKEN_KEYS, FIELD_KEYS)


@pytest.fixture
def session_factory(runtime: Runtime) -> Any:
    """The runtime's session factory."""
    return runtime.session_factory


@pytest.fixture
def app(runtime: Runtime) -> Any:
    """The ASGI app over the test runtime."""
    from opsure.app import create_app

    return create_app(runtime.settings, runtime)


class GraphQLClient:
    """Posts GraphQL documents to the app as one principal."""

    def __init__(self, client: httpx.Client, token: str | None) -> None:
        self.client = client
        self.token = token

    def post(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        """POST a document; returns the raw response."""
        hdrs = {"accept": "application/graphql-response+json", **headers}
        if self.token:
            hdrs["authorization"] = f"Bearer {self.token}"
        return self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=hdrs)

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a document expecting no errors; returns ``data``."""
        resp = self.post(query, variables)
        body = resp.json()
        assert resp.status_code == 200 and "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]


@pytest.fixture
def http(app: Any) -> Iterator[httpx.Client]:
    """A synchronous HTTP client bound to the app (in process, real ASGI stack)."""
    from starlette.testclient import TestClient

    with TestClient(app) as client:
        yield client


@pytest.fixture
def gql(http: httpx.Client, runtime: Runtime) -> Any:
    """Factory: ``gql(Role.ADMIN)`` or ``gql(Role.CUSTOMER, customer_id=3)`` -> GraphQLClient."""

    def make(role: Role | None = None, **claims: Any) -> GraphQLClient:
        token = None
        if role is not None:
            token = issue_token(
                runtime.token_keys, runtime.settings, subject=f"{role.value}-test", role=role, **claims
            )
        return GraphQLClient(http, token)

    return make


ADMIN = Principal(subject="admin-test", role=Role.ADMIN)
TODAY = dt.date(2026, 6, 1)
