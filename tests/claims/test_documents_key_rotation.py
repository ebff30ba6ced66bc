"""A document's data key follows a field-key rotation: wrapped under a key id, re-wrapped by
``opsure keys reencrypt`` with the other sealed columns, and the old field key can then go."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core.auth import Role, issue_token
from core.crypto import FieldKeys, current_field_keys, install_field_keys, key_id_of
from core.db import transaction
from core.reencrypt import reencrypt
from opsure.keys_cli import all_sealed_columns
from resolvers.claims.envelope import CorruptObjectError, open_object
from resolvers.claims.models import ClaimDocument
from resolvers.claims.storage import document_storage
from schema.relay import encode_global_id
from tests.claim_factories import PDF, make_claim_policy, report


@pytest.fixture
def keyring(runtime: Any) -> Iterator[FieldKeys]:
    """The test keyring (installed by ``runtime``), restored afterwards."""
    original = current_field_keys()
    yield original
    install_field_keys(original)


def _data_key(session_factory: Any) -> tuple[str, str]:
    with session_factory() as s:
        doc = s.scalars(select(ClaimDocument)).one()
        assert doc.data_key is not None
        return doc.storage_key, doc.data_key


def test_rotation_rewraps_data_keys_and_retires_the_old_key(http: Any, runtime: Any, keyring: FieldKeys,
                                                            session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        claim_id, customer_id = encode_global_id("Claim", report(s, policy).id), policy.customer_id
    token = issue_token(runtime.token_keys, runtime.settings, subject="c", role=Role.CUSTOMER, customer_id=customer_id)
    auth = {"authorization": f"Bearer {token}"}
    url = http.post(f"/claims/{claim_id}/documents", content=PDF,
                    headers={**auth, "x-document-kind": "invoice"}).headers["location"]
    key, wrapped = _data_key(session_factory)
    assert key_id_of(wrapped) == keyring.current

    rotated = keyring.with_new_key()
    install_field_keys(rotated)
    assert http.get(url, headers=auth).content == PDF  # the old field key still opens the data key
    install_field_keys(rotated.without_key(keyring.current))
    with pytest.raises(CorruptObjectError):  # retired before re-encryption: the document would be lost
        open_object(document_storage(runtime.settings.data_dir), key, wrapped)

    install_field_keys(rotated)
    reencrypt(runtime.engine.begin, all_sealed_columns(), keys=rotated)
    key_after, rewrapped = _data_key(session_factory)
    assert key_after == key and key_id_of(rewrapped) == rotated.current  # the object itself is untouched
    install_field_keys(rotated.without_key(keyring.current))
    resp = http.get(url, headers=auth)
    assert resp.status_code == 200 and resp.content == PDF
