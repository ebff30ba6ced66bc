"""analytics: the high-risk robot's watch list, and the date of its last full scan

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-28 02:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('analytics_watch',
    sa.Column('customer_id', _ID, nullable=False),
    sa.Column('status', sa.Enum('watching', 'cleared', name='analytics_watch_status', native_enum=False, length=32), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('model_version', sa.String(length=40), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_watch')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_analytics_watch_customer_id'))
    )
    with op.batch_alter_table('analytics_lock') as batch:
        batch.add_column(sa.Column('robot_scanned_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('analytics_lock') as batch:
        batch.drop_column('robot_scanned_on')
    op.drop_table('analytics_watch')
