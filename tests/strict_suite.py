"""pytest plugin: no test of this suite can pass by not running.

- A skip (``pytest.skip``, ``skipif``, ``importorskip``, an empty parametrization, a skip
  in a fixture or at module level) is reported as a failure, and so is an ``xfail``
  (expected or not): a test that cannot fail proves nothing. There is no allow-list.
- A test marked ``npm`` fails before it starts when Node.js or ``contracts/node_modules``
  is missing, with the command to run (``make npm``).
- With ``CI`` set, deselecting ``npm`` checks (``-m``/``-k``) is a usage error: CI runs
  every check.

Loaded by ``tests/conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from tests import npm_tools

_NO_SKIPS = "tests never skip (a skipped test cannot fail); it was skipped with: "
_NO_XFAILS = "tests never xfail (an expected failure cannot fail); it was marked: "


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail(report: pytest.TestReport | pytest.CollectReport, message: str) -> None:
    report.outcome = "failed"
    report.longrepr = message


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Turn every skip and xfail of a test (setup, call or teardown) into a failure."""
    report = yield
    was_xfail = getattr(report, "wasxfail", None)
    if was_xfail is not None:
        del report.wasxfail
        _fail(report, _NO_XFAILS + (str(was_xfail) or "xfail"))
    elif report.skipped:
        _fail(report, _NO_SKIPS + _skip_reason(report))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Turn a module-level skip (``importorskip``, ``allow_module_level``) into a collection error."""
    report = yield
    if report.skipped:
        _fail(report, _NO_SKIPS + _skip_reason(report))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail an ``npm`` check up front when its tooling is missing."""
    if item.get_closest_marker("npm") is not None:
        problem = npm_tools.tooling_problem()
        if problem is not None:
            pytest.fail(f"npm-backed check cannot run: {problem}", pytrace=False)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """In CI, refuse a run that leaves npm-backed checks out."""
    if os.environ.get("CI") and any(item.get_closest_marker("npm") for item in items):
        names = ", ".join(item.nodeid for item in items if item.get_closest_marker("npm"))
        raise pytest.UsageError(f"CI is set: npm-backed checks may not be deselected ({names})")
