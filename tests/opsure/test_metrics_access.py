"""``/metrics`` answers only the networks configured to scrape it (OPSURE_METRICS_ALLOW)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from opsure.app import create_app


def _get(runtime: Any, client: tuple[str, int], **headers: str) -> Any:
    with TestClient(create_app(runtime.settings, runtime), client=client) as http:
        return http.get("/metrics", headers=headers)


def test_loopback_scrapes_and_the_internet_does_not(runtime: Any) -> None:
    assert _get(runtime, ("127.0.0.1", 5000)).status_code == 200
    refused = _get(runtime, ("203.0.113.9", 5000))
    assert refused.status_code == 403 and "opsure_" not in refused.text


def test_forwarded_for_is_believed_only_from_trusted_proxies(runtime: Any) -> None:
    runtime.settings = runtime.settings.with_(metrics_allow=("10.9.0.0/16",), trusted_proxies=("192.0.2.1",))
    assert _get(runtime, ("192.0.2.1", 1), **{"x-forwarded-for": "10.9.3.4"}).status_code == 200
    assert _get(runtime, ("192.0.2.7", 1), **{"x-forwarded-for": "10.9.3.4"}).status_code == 403
