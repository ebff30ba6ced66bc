"""Runtime settings, read once from the environment (``OPSURE_*``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Settings", "get_settings", "override_settings"]


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name) or ""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


#: Domain settings kept in ``Settings.extra``, each read from its own variable.
_EXTRA_VARIABLES = {
    "OPSURE_CALENDAR_HOURS": "calendar.hours",
    "OPSURE_CALENDAR_EXTRA_HOLIDAYS": "calendar.extra_holidays",
    "OPSURE_CALENDAR_EXTRA_WORKDAYS": "calendar.extra_workdays",
}


def _extra() -> dict[str, str]:
    """``Settings.extra``: ``OPSURE_EXTRA`` (a JSON object of strings), then the named variables."""
    raw = os.environ.get("OPSURE_EXTRA") or "{}"
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"OPSURE_EXTRA must be a JSON object of strings: {exc}") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise ValueError("OPSURE_EXTRA must be a JSON object of strings")
    extra = {str(k): v for k, v in parsed.items()}
    for variable, key in _EXTRA_VARIABLES.items():
        if os.environ.get(variable):
            extra[key] = os.environ[variable]
    return extra


@dataclass(frozen=True)
class Settings:
    """Every tunable of one Opsure process; defaults are the embedded single-node set-up."""

    data_dir: Path = Path("data")
    database_url: str | None = None
    graphiql: bool = True
    introspection: bool = True
    trusted_documents_only: bool = False
    jwt_issuer: str = "opsure"
    jwt_audience: str = "opsure-api"
    token_ttl_seconds: int = 3600
    max_body_bytes: int = 1_000_000
    max_query_depth: int = 12
    max_query_tokens: int = 4_000
    max_aliases: int = 30
    max_query_cost: int = 50_000
    max_page_size: int = 100
    default_page_size: int = 20
    ledger_rpc_url: str | None = None
    ledger_mode: str = "embedded"  # embedded | external | off
    anchoring_in_process: bool = True
    ledger_chain_id: int = 48151
    log_level: str = "INFO"
    business_timezone: str = "Asia/Shanghai"  # every business date ("today") is taken in this zone
    redis_url: str | None = None  # optional shared store (rate limits, fan-out) for several workers
    trusted_proxies: tuple[str, ...] = ()  # CIDRs whose X-Forwarded-For is believed
    max_document_bytes: int = 65_536  # largest GraphQL document (query text) accepted
    rpc_gas_cap: int = 5_000_000  # gas limit of one anonymous eth_call / eth_estimateGas
    rpc_call_timeout: float = 2.0  # wall-clock seconds of one EVM read
    rpc_max_batch: int = 50  # JSON-RPC requests in one batch
    rpc_max_log_blocks: int = 5_000  # block range of one eth_getLogs
    rpc_max_logs: int = 10_000  # logs returned by one eth_getLogs
    rpc_rate_per_minute: int = 600  # JSON-RPC requests per client and minute
    rpc_read_processes: int = 1  # processes answering heavy JSON-RPC reads (0: API process threads)
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")  # networks that may scrape /metrics
    egress_allow: tuple[str, ...] = ()  # non-public addresses webhooks may reach (CIDR, addr:port, [v6]:port)
    event_retention_days: int = 30  # domain events older than this are pruned (0: keep every event)
    event_prune_past_consumers: bool = False  # prune even events a consumer has not read yet
    event_consumers_in_process: bool = True  # `opsure serve` also runs the durable event consumers
    event_poll_seconds: float = 1.0  # how often event readers poll when no wake-up arrives
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: explicit, else a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opsure.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        """Directory holding the embedded default's generated keys."""
        return self.data_dir / "keys"

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from ``OPSURE_*`` environment variables."""
        return cls(
            data_dir=Path(os.environ.get("OPSURE_DATA_DIR") or "data"),
            database_url=os.environ.get("OPSURE_DATABASE_URL") or None,
            graphiql=_flag("OPSURE_GRAPHIQL", True),
            introspection=_flag("OPSURE_INTROSPECTION", True),
            trusted_documents_only=_flag("OPSURE_TRUSTED_DOCUMENTS", False),
            jwt_issuer=os.environ.get("OPSURE_JWT_ISSUER") or "opsure",
            jwt_audience=os.environ.get("OPSURE_JWT_AUDIENCE") or "opsure-api",
            token_ttl_seconds=_int("OPSURE_TOKEN_TTL", 3600),
            max_body_bytes=_int("OPSURE_MAX_BODY_BYTES", 1_000_000),
            max_query_depth=_int("OPSURE_MAX_QUERY_DEPTH", 12),
            max_query_tokens=_int("OPSURE_MAX_QUERY_TOKENS", 4_000),
            max_aliases=_int("OPSURE_MAX_ALIASES", 30),
            max_query_cost=_int("OPSURE_MAX_QUERY_COST", 50_000),
            max_page_size=_int("OPSURE_MAX_PAGE_SIZE", 100),
            ledger_rpc_url=os.environ.get("OPSURE_LEDGER_RPC_URL") or None,
            ledger_mode=os.environ.get("OPSURE_LEDGER")
            or ("external" if os.environ.get("OPSURE_LEDGER_RPC_URL") else "embedded"),
            anchoring_in_process=_flag("OPSURE_ANCHORING_IN_PROCESS", True),
            ledger_chain_id=_int("OPSURE_LEDGER_CHAIN_ID", 48151),
            log_level=os.environ.get("OPSURE_LOG_LEVEL") or "INFO",
            business_timezone=os.environ.get("OPSURE_BUSINESS_TZ") or "Asia/Shanghai",
            redis_url=os.environ.get("OPSURE_REDIS_URL") or None,
            trusted_proxies=_list("OPSURE_TRUSTED_PROXIES"),
            max_document_bytes=_int("OPSURE_MAX_DOCUMENT_BYTES", 65_536),
            rpc_gas_cap=_int("OPSURE_RPC_GAS_CAP", 5_000_000),
            rpc_call_timeout=_float("OPSURE_RPC_CALL_TIMEOUT", 2.0),
            rpc_max_batch=_int("OPSURE_RPC_MAX_BATCH", 50),
            rpc_max_log_blocks=_int("OPSURE_RPC_MAX_LOG_BLOCKS", 5_000),
            rpc_max_logs=_int("OPSURE_RPC_MAX_LOGS", 10_000),
            rpc_rate_per_minute=_int("OPSURE_RPC_RATE_PER_MINUTE", 600),
            rpc_read_processes=_int("OPSURE_RPC_READ_PROCESSES", 1),
            cors_origins=_list("OPSURE_CORS_ORIGINS"),
            metrics_allow=_list("OPSURE_METRICS_ALLOW") or ("127.0.0.1/32", "::1/128"),
            egress_allow=_list("OPSURE_EGRESS_ALLOW"),
            event_retention_days=_int("OPSURE_EVENT_RETENTION_DAYS", 30),
            event_prune_past_consumers=_flag("OPSURE_EVENT_PRUNE_PAST_CONSUMERS", False),
            event_consumers_in_process=_flag("OPSURE_EVENT_CONSUMERS_IN_PROCESS", True),
            event_poll_seconds=_float("OPSURE_EVENT_POLL_SECONDS", 1.0),
            extra=_extra(),
        )

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests, CLI flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def override_settings(settings: Settings | None) -> None:
    """Replace (or with None, forget) the process-wide settings."""
    global _current
    _current = settings
