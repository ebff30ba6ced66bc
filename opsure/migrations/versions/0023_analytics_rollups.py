"""analytics: fact rollups, per-row contributions, the rebuild lock

Revision ID: 0023
Revises: 0012
Create Date: 2026-11-28 01:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0012'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('analytics_rollup',
    sa.Column('fact', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('product_id', _ID, nullable=False),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=24, scale=8), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_rollup')),
    sa.UniqueConstraint('fact', 'day', 'hour', 'product_id', 'age_band', 'region',
                        name=op.f('uq_analytics_rollup_fact_day_hour_product_id_age_band_region'))
    )
    op.create_table('analytics_contribution',
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('entity_id', _ID, nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_contribution')),
    sa.UniqueConstraint('entity', 'entity_id', name=op.f('uq_analytics_contribution_entity_entity_id'))
    )
    op.create_table('analytics_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_lock'))
    )


def downgrade() -> None:
    op.drop_table('analytics_lock')
    op.drop_table('analytics_contribution')
    op.drop_table('analytics_rollup')
