"""Key rotation: sealed values re-encrypted per second, against a plain rewrite of the same rows.

``core.reencrypt.reencrypt`` walks every sealed column in primary-key order, one batch per
transaction: it selects the values not yet under the current key, opens each (its key id,
column and row), seals it under the current key and writes it back with one executemany
per batch. The baseline, in the same run and process over the same rows: the very same
walk with a keyring stub whose open and seal return the value unchanged — selects,
transactions and UPDATEs, no cryptography. Rounds alternate (plain, rotate, plain, rotate
…), every rotation adding a key, so both see the same database.

Usage::

    python bench/bench_reencrypt.py                      # 20,000 customers (100,000 values), 3 rounds
    python bench/bench_reencrypt.py --customers 50000 --batch 1000
    python bench/bench_reencrypt.py --database-url postgresql+psycopg://postgres@127.0.0.1/opsure_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from core.crypto import FieldKeys, install_field_keys, new_row_uid
from core.db import make_engine
from core.reencrypt import reencrypt, remaining_by_key, sealed_columns
from opsure.migrate import upgrade
from opsure.models import metadata

CUSTOMER_FIELDS = ("name", "id_number", "phone", "email", "birth_date")


class _Plain:
    """A keyring stand-in that opens and seals nothing (the baseline's 'crypto')."""

    current = 10**6  # no value carries this key id, so every value is walked

    def open(self, token: str, context: str, *, row: str | None = None) -> str:
        return token

    def seal(self, plaintext: str, context: str, *, row: str | None = None) -> str:
        return plaintext


def _fill(engine: Any, keys: FieldKeys, n: int) -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    sample = {"name": "王小明", "id_number": "110101199003077777", "phone": "+8613800138000",
              "email": "wang@example.cn", "birth_date": "1990-03-07"}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM customer"))
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                uid = new_row_uid()
                rows.append({**{f: keys.seal(v, f"customer.{f}", row=uid) for f, v in sample.items()},
                             "uid": uid, "bidx": f"{i:064x}", "now": now})
            conn.execute(text(
                "INSERT INTO customer (name, id_number, id_number_bidx, phone, email, birth_date, birth_year, "
                "gender, row_uid, version, created_at, updated_at) VALUES (:name, :id_number, :bidx, :phone, "
                ":email, :birth_date, 1990, 'male', :uid, 1, :now, :now)"), rows)


def main() -> None:
    """Fill customers, then alternate plain rewrites and re-encryptions; print values/s and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="opsure-bench-reencrypt-"))
    engine = make_engine(args.database_url or f"sqlite:///{tmp / 'opsure.db'}")
    try:
        upgrade(engine)
        keys = FieldKeys.generate()
        install_field_keys(keys)
        columns = [c for c in sealed_columns(metadata) if c.table == "customer"]
        t0 = time.perf_counter()
        _fill(engine, keys, args.customers)
        values = args.customers * len(CUSTOMER_FIELDS)
        print(f"data: {engine.url.render_as_string(hide_password=True)} ({args.customers} customers, "
              f"{values} sealed values, ready in {time.perf_counter() - t0:.1f} s)")
        plain_s: list[float] = []
        crypto_s: list[float] = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            plain = reencrypt(engine.begin, columns, keys=_Plain(), batch=args.batch)  # type: ignore[arg-type]
            plain_s.append(time.perf_counter() - t0)
            keys = keys.with_new_key()
            t0 = time.perf_counter()
            report = reencrypt(engine.begin, columns, keys=keys, batch=args.batch)
            crypto_s.append(time.perf_counter() - t0)
            assert plain.total == values and report.total == values and not report.failures
        with engine.connect() as conn:
            assert remaining_by_key(conn, columns, keys.data_keys) == {str(keys.current): values}
        best_plain, best_crypto = min(plain_s), min(crypto_s)
        print(f"batches of {args.batch}, best of {args.rounds} rounds:")
        print(f"  plain rewrite   {values / best_plain:10,.0f} values/s   ({best_plain:.2f} s)")
        print(f"  re-encryption   {values / best_crypto:10,.0f} values/s   ({best_crypto:.2f} s)")
        print(f"  ratio re-encryption/plain (time): {best_crypto / best_plain:.2f}x")
    finally:
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
