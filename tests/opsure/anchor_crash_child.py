"""Child process of test_anchoring_crash: records and anchors in a loop until killed.

Reads OPSURE_DATA_DIR / OPSURE_DATABASE_URL / OPSURE_FIELD_KEY / OPSURE_TENANT_KEY from the
environment, prints ``committed <total>`` after every committed batch of records.
"""

from __future__ import annotations

import datetime as dt
import sys

from core.db import transaction
from core.settings import Settings
from ledger import service as ledger_service
from ledger.contract import RecordKind
from opsure.ledger_host import LedgerHost
from opsure.runtime import open_runtime


def main() -> None:
    """Record 40 medical records, anchor, repeat."""
    settings = Settings.from_env().with_(ledger_mode="embedded", anchoring_in_process=False)
    runtime = open_runtime(settings)
    host = LedgerHost(runtime)
    host.start()
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    while True:
        with transaction(runtime.session_factory) as s:
            ledger_service.record_many(
                s, kind=RecordKind.MEDICAL,
                bodies=[{"documentType": "invoice", "provider": f"hospital-{i % 7}",
                         "issuedOn": dt.date(2026, 5, 1 + i % 28).isoformat(), "n": total + i}
                        for i in range(40)],
            )
        total += 40
        print(f"committed {total}", flush=True)
        host.anchor_now(max_batch=60)


if __name__ == "__main__":
    main()
