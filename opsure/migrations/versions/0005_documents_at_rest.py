"""documents at rest

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 18:00:00

Claim documents are sealed with a data key per object (resolvers.claims.envelope); the
key, wrapped by the field keys, lives in ``claim_document.data_key``. Rows stored before
have no key and stay readable as plaintext until ``opsure claim-documents encrypt`` seals
them (file work needs the document store and the keys, so it is a command, not a migration).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('claim_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_key', sa.Text(), nullable=True))


def downgrade() -> None:
    sealed = op.get_bind().execute(sa.text("SELECT 1 FROM claim_document WHERE data_key IS NOT NULL LIMIT 1"))
    if sealed.first() is not None:
        raise RuntimeError("sealed claim documents exist: dropping their data keys would lose them")
    with op.batch_alter_table('claim_document', schema=None) as batch_op:
        batch_op.drop_column('data_key')
