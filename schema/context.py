"""The per-request GraphQL context: who is calling, a session, and the request's loaders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal
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
    clock: Any = None  # callable returning aware UTC now; tests freeze it
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
        """Drop cached loader results (after a mutation changed rows)."""
        self._loaders.clear()
        if self._session is not None:
            self._session.expire_all()

    def now(self) -> dt.datetime:
        """Current aware UTC time (frozen in tests)."""
        return self.clock() if self.clock is not None else dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        """Current date in UTC."""
        return self.now().date()

    def close(self) -> None:
        """Release the request session."""
        if self._session is not None:
            self._session.close()
            self._session = None
