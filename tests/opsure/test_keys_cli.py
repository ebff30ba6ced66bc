"""``opsure keys``: rotate the field key, re-encrypt, retire the old key; the status along the way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from core.crypto import FIELD_KEY_ENV, FieldKeys, current_field_keys, install_field_keys, write_keyring
from core.db import transaction
from core.settings import Settings, override_settings
from opsure.cli import main
from resolvers.policies.models import Customer
from tests.factories import make_customer


@pytest.fixture
def on_file(settings: Settings, runtime: Any) -> Iterator[Settings]:
    """The suite's keyring written to the data directory, and these settings process-wide."""
    keys = current_field_keys()
    write_keyring(settings.keys_dir, keys)
    override_settings(settings)
    yield settings
    override_settings(None)
    install_field_keys(keys)


def _run(*args: str, **env: str) -> Any:
    result = CliRunner().invoke(main, ["keys", *args], env=env or None, catch_exceptions=False)
    return result


def test_rotate_reencrypt_retire(on_file: Settings, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        cid = make_customer(s, name="赵六").id  # five sealed fields under key 1
    assert json.loads(_run("status").stdout)["sealedValues"] == {"1": 5}

    assert _run("rotate-field-key").exit_code == 0
    keys = FieldKeys.load_or_create(on_file.keys_dir)
    assert list(keys.data_keys) == [1, 2] and keys.current == 2

    refused = _run("retire-field-key", "1")
    assert refused.exit_code == 1 and "5 values are still sealed under key 1" in refused.output

    done = _run("reencrypt", "--batch", "2")
    out = json.loads(done.stdout)
    assert done.exit_code == 0 and out["total"] == 5 and out["sealedValues"] == {"2": 5} and out["failures"] == []
    assert json.loads(_run("reencrypt").stdout)["total"] == 0

    assert _run("retire-field-key", "1").exit_code == 0
    left = FieldKeys.load_or_create(on_file.keys_dir)
    assert list(left.data_keys) == [2] and left.index_key == keys.index_key
    install_field_keys(left)
    with session_factory() as s:
        assert s.get(Customer, cid).name == "赵六"


def test_with_the_keyring_in_the_environment_nothing_is_written(on_file: Settings) -> None:
    env_keys = FieldKeys.generate().dump(one_line=True)
    before = (on_file.keys_dir / "field.key").read_text()
    result = _run("rotate-field-key", **{FIELD_KEY_ENV: env_keys})
    assert result.exit_code == 0 and (on_file.keys_dir / "field.key").read_text() == before
    printed = FieldKeys.parse(result.stdout)
    assert list(printed.data_keys) == [1, 2] and printed.current == 2
    assert printed.data_keys[1] == FieldKeys.parse(env_keys).data_keys[1]
