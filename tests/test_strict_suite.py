"""The suite's strictness plugin: every way a test can avoid running is a failure."""

from __future__ import annotations

import pytest

from tests import npm_tools

PLUGIN = ("-p", "tests.strict_suite", "-p", "no:cacheprovider")

SKIPPING_TESTS = '''
import pytest

@pytest.mark.skip(reason="not today")
def test_marked_skip():
    pass

@pytest.mark.skipif(True, reason="conditional")
def test_skipif():
    pass

def test_imperative_skip():
    pytest.skip("artifact unavailable")

@pytest.fixture
def broken_fixture():
    pytest.skip("fixture gave up")

def test_fixture_skip(broken_fixture):
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfailed():
    assert False

@pytest.mark.xfail(reason="known bug")
def test_xpassed():
    pass

def test_imperative_xfail():
    pytest.xfail("later")

@pytest.mark.parametrize("x", [])
def test_empty_parametrization(x):
    pass

def test_runs():
    pass
'''


def test_every_kind_of_skip_and_xfail_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_skips=SKIPPING_TESTS)
    result = pytester.runpytest(*PLUGIN)
    # marks and fixtures skip in setup (an error), the rest in the call (a failure)
    result.assert_outcomes(passed=1, failed=4, errors=4)
    result.stdout.fnmatch_lines(["*tests never skip*artifact unavailable*"])
    result.stdout.fnmatch_lines(["*tests never xfail*known bug*"])
    assert "skipped" not in result.stdout.lines[-1] and "xfail" not in result.stdout.lines[-1]


def test_without_the_plugin_the_same_file_would_pass(pytester: pytest.Pytester) -> None:
    """The control: plain pytest reports these as skips and xfails, and exits 0."""
    pytester.makepyfile(test_skips=SKIPPING_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=5, xfailed=2, xpassed=1)
    assert result.ret == 0


def test_module_level_importorskip_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mod='import pytest\nnode = pytest.importorskip("no_such_module_here")\n'
                                 "def test_x():\n    pass\n")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*tests never skip*no_such_module_here*"])


NPM_TEST = '''
import pytest

@pytest.mark.npm
def test_needs_node():
    pass

def test_plain():
    pass
'''


def test_npm_check_fails_when_node_modules_is_missing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(npm_tools, "_INSTALLED_MARK", pytester.path / "nowhere" / ".package-lock.json")
    pytester.makeini("[pytest]\nmarkers =\n    npm: needs Node.js packages\n")
    pytester.makepyfile(test_npm=NPM_TEST)
    result = pytester.runpytest_inprocess(*PLUGIN)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*npm-backed check cannot run*is not installed: run `make npm`*"])


def test_npm_check_fails_without_node_on_path(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(pytester.path / "empty-bin"))
    pytester.makeini("[pytest]\nmarkers =\n    npm: needs Node.js packages\n")
    pytester.makepyfile(test_npm=NPM_TEST)
    result = pytester.runpytest_inprocess(*PLUGIN)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*node and npm not on PATH*make npm*"])


def test_npm_check_runs_when_the_tooling_is_installed(pytester: pytest.Pytester) -> None:
    assert npm_tools.tooling_problem() is None, "run `make npm`"
    pytester.makeini("[pytest]\nmarkers =\n    npm: needs Node.js packages\n")
    pytester.makepyfile(test_npm=NPM_TEST)
    pytester.runpytest_inprocess(*PLUGIN).assert_outcomes(passed=2)


@pytest.mark.parametrize(("ci", "exit_code"), [("true", pytest.ExitCode.USAGE_ERROR), ("", pytest.ExitCode.OK)])
def test_ci_refuses_to_deselect_npm_checks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, exit_code: pytest.ExitCode
) -> None:
    monkeypatch.setenv("CI", ci)
    pytester.makeini("[pytest]\nmarkers =\n    npm: needs Node.js packages\n")
    pytester.makepyfile(test_npm=NPM_TEST)
    result = pytester.runpytest_inprocess(*PLUGIN, "-m", "not npm")
    assert result.ret == exit_code
    if ci:
        result.stderr.fnmatch_lines(["*CI is set: npm-backed checks may not be deselected*test_needs_node*"])
