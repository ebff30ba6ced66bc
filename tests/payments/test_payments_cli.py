"""``opsure payments export|import``: the bank exchange on demand, through the files, printing no account data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from core.audit import current_audit_key, install_audit_key
from core.crypto import current_field_keys, install_field_keys, write_keyring
from core.db import transaction
from core.settings import Settings, override_settings
from ledger.commitments import current_tenant_key, install_tenant_key
from opsure.cli import main
from resolvers.claims import payments
from resolvers.claims.models import Claim, ClaimState
from resolvers.payments.adapter import FileRailAdapter
from resolvers.payments.bankfile import answer_batch
from tests.claim_factories import ADJUSTER, make_approved_claim

NOW = dt.datetime.now(dt.UTC)


def test_export_then_import_pays_the_claim(settings: Settings, session_factory: Any, data_dir: Path) -> None:
    with transaction(session_factory) as s:
        claim_id = make_approved_claim(s).id
        payments.pay_claim(s, principal=ADJUSTER, claim_id=claim_id, idempotency_key="cli-pay-0001", now=NOW)
    saved = current_field_keys(), current_audit_key(), current_tenant_key()
    write_keyring(settings.keys_dir, saved[0])  # the CLI opens its runtime with the keys on file
    override_settings(settings)
    try:
        exported = CliRunner().invoke(main, ["payments", "export"])
        assert exported.exit_code == 0, exported.output
        assert exported.output.startswith("1 instructions in 1 batch file(s)")
        (batch,) = (data_dir / "payments" / "outbox").glob("*.txt")
        text = batch.read_text(encoding="utf-8")
        account = text.splitlines()[1].split("|")[5]
        assert account.isdigit() and account not in exported.output
        name, answer = answer_batch(text, date_iso=NOW.date().isoformat())
        FileRailAdapter(data_dir / "payments").drop_returns(name, answer)
        imported = CliRunner().invoke(main, ["payments", "import"])
        assert imported.exit_code == 0, imported.output
        assert imported.output.strip() == "1 file(s) applied, 0 refused; 1 settled, 0 returned, 0 line(s) not applied"
        again = CliRunner().invoke(main, ["payments", "export"])
        assert again.output.startswith("0 instructions in 0 batch file(s)")
    finally:
        override_settings(None)
        install_field_keys(saved[0])  # the CLI installed the keys of its data directory: the suite's again
        install_audit_key(saved[1])
        install_tenant_key(saved[2])
    with session_factory() as s:
        assert s.get_one(Claim, claim_id).state is ClaimState.PAID
