"""partner auth hardening: shared rate-limit counters; staff-only webhook error detail

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:00:00

Owned by helper 'edges' (issue 8 items 4, 6).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counter'))
    )
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counter_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_error_detail', sa.Text(), nullable=True))
    # What partners saw so far ("ConnectError: [Errno 111] Connection refused") becomes staff-only
    # detail; the partner-visible field keeps a code.
    op.execute("""
        UPDATE webhook_delivery SET
            last_error_detail = last_error,
            last_error = CASE
                WHEN last_error = 'endpoint deactivated' THEN 'ENDPOINT_DEACTIVATED'
                WHEN last_status_code IS NOT NULL THEN 'HTTP_STATUS'
                ELSE 'DELIVERY_FAILED' END
        WHERE last_error IS NOT NULL
    """)


def downgrade() -> None:
    op.execute("UPDATE webhook_delivery SET last_error = last_error_detail WHERE last_error_detail IS NOT NULL")
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_column('last_error_detail')
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counter_expires_at'))
    op.drop_table('rate_limit_counter')
