"""The per-request GraphQL context: who is calling, a session, and the request's loaders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal
from core.clock import business_date
from core.clock import now as clock_now
from core.db import read_only_session
from core.settings import Settings

__all__ = ["Context"]


@dataclass
class Context:
    """Everything a resolver may use; created once per request (or websocket operation)."""

    principal: Principal
    session_factory: sessionmaker[Session]
    settings: Settings
    request: Any = None
    clock: Any = None  # callable returning aware UTC now; default: the process clock (core.clock)
    _session: Session | None = None
    _loaders: dict[type, Any] = field(default_factory=dict)

    @property
    def session(self) -> Session:
        """A read session for this request, opened on first use, closed by :meth:`close`."""
        if self._session is None:
            self._session = read_only_session(self.session_factory)
        return self._session

    def loader(self, cls: type[Any]) -> Any:
        """The request's instance of a DataLoader class (created on first use)."""
        inst = self._loaders.get(cls)
        if inst is None:
            inst = self._loaders[cls] = cls(self)
        return inst

    def forget_loaded(self) -> None:
        """Forget what this request read (after a mutation changed rows): loader caches and the read session.

        Ending the read session matters, not only expiring it: on SQLite a read transaction
        is a snapshot taken at its first read, so it would keep showing the rows as they were
        before the mutation. The next read opens a fresh session and a fresh snapshot.
        """
        self._loaders.clear()
        self.close()

    def now(self) -> dt.datetime:
        """Current aware UTC time (tests move the process clock, core.clock)."""
        return self.clock() if self.clock is not None else clock_now()

    def today(self) -> dt.date:
        """Today's business date (in the configured business time zone, never UTC's date)."""
        return business_date(self.now())

    def close(self) -> None:
        """Release the request session."""
        if self._session is not None:
            self._session.close()
            self._session = None
