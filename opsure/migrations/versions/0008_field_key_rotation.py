"""field key rotation

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 18:00:00

Sealed fields become ``v2:<key id>:…`` bound to their row as well as their column
(core.crypto): tables with encrypted fields get an immutable random ``row_uid``, and
every sealed value is re-encrypted under the current field key with its row binding
(ledger records are bound to their commitment). That needs the field keys: run it
through ``opsure migrate`` / ``opsure serve``, which install them. The audit log records
how each input digest was made (``sha256`` before this revision, keyed HMAC after).
"""
from __future__ import annotations

import contextlib
import secrets

import sqlalchemy as sa
from alembic import op

from core.crypto import current_field_keys, field_keys_installed
from core.reencrypt import SealedColumn, reencrypt, remaining_by_key

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ROW_UID_TABLES = ("customer", "quote", "policy", "endorsement", "webhook_endpoint")

# The sealed columns as of this revision (frozen here: later models may differ).
SEALED = [
    *(SealedColumn("customer", c, f"customer.{c}") for c in ("name", "id_number", "phone", "email", "birth_date")),
    SealedColumn("quote", "declaration", "quote.declaration"),
    *(SealedColumn("policy", c, f"policy.{c}") for c in ("contact_phone", "contact_email", "beneficiary_name")),
    SealedColumn("endorsement", "changes", "endorsement.changes"),
    SealedColumn("webhook_endpoint", "secret", "webhook_endpoint.secret"),
    SealedColumn("ledger_record", "body", "ledger_record.body", row="commitment"),
    SealedColumn("ledger_record", "salt", "ledger_record.salt", row="commitment"),
    # Wrapped document data keys (0005): bound to their object by the context, no row column.
    SealedColumn("claim_document", "data_key", "claim_document.data_key:", row=None, context_from="storage_key"),
]


def _fill_row_uids(conn: sa.Connection, name: str) -> None:
    t = sa.table(name, sa.column("id"), sa.column("row_uid"))
    missing = sa.or_(t.c.row_uid.is_(None), t.c.row_uid == "")
    ids = conn.execute(sa.select(t.c.id).where(missing).order_by(t.c.id)).scalars().all()
    stmt = sa.update(t).where(t.c.id == sa.bindparam("b_id")).values(row_uid=sa.bindparam("b_uid"))
    for start in range(0, len(ids), 1000):
        conn.execute(stmt, [{"b_id": i, "b_uid": secrets.token_hex(16)} for i in ids[start:start + 1000]])


def upgrade() -> None:
    conn = op.get_bind()
    # SQLite would rebuild a table to make a new column NOT NULL, and rows of other tables point
    # at these ones (the rebuild trips their foreign keys): there the column is added NOT NULL
    # with an empty default that nothing uses (every insert writes a uid; the unique index
    # refuses a second empty one).
    sqlite = conn.dialect.name == "sqlite"
    for name in ROW_UID_TABLES:
        op.add_column(name, sa.Column('row_uid', sa.String(length=32), nullable=not sqlite,
                                      server_default='' if sqlite else None))
        _fill_row_uids(conn, name)
        if not sqlite:
            op.alter_column(name, 'row_uid', existing_type=sa.String(length=32), nullable=False)
        op.create_index(op.f(f'ix_{name}_row_uid'), name, ['row_uid'], unique=True)

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('input_digest_alg', sa.String(length=16), nullable=False,
                                      server_default='sha256'))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('input_digest_alg', existing_type=sa.String(length=16), server_default=None)

    if not field_keys_installed():
        if sum(remaining_by_key(conn, SEALED, ()).values()):
            raise RuntimeError(
                "migration 0008 re-encrypts sealed personal fields and needs the field keys: run "
                "`opsure migrate` (it loads <data_dir>/keys/field.key or OPSURE_FIELD_KEY)")
        return
    report = reencrypt(lambda: contextlib.nullcontext(conn), SEALED, keys=current_field_keys())
    if report.failures:
        shown = ", ".join(f"{c} id {pk} ({why})" for c, pk, why in report.failures[:5])
        raise RuntimeError(f"{len(report.failures)} sealed values do not open with these field keys: {shown}")


def downgrade() -> None:
    if sum(remaining_by_key(op.get_bind(), SEALED, ()).values()):
        raise RuntimeError("sealed values are row-bound (v2) now; revision 0007 cannot read them: restore a backup")
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('input_digest_alg')
    for name in reversed(ROW_UID_TABLES):
        op.drop_index(op.f(f'ix_{name}_row_uid'), table_name=name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('row_uid')
