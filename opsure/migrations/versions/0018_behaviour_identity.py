"""operations: behaviour identities (anonymous ids bound to customers by identify or alias); behaviour
events indexed by name (identity-resolved counts of one name; by name alone: (name, occurred_at)
took random index pages at every insert and halved the ingest rate)

Revision ID: 0018
Revises: 0016
Create Date: 2026-11-28 00:45:00

Owned by helper H2 (issue 12, item 1: identify/alias, platform events).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('behaviour_identity',
    sa.Column('anonymous_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', _ID, nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('alias_of', sa.String(length=64), nullable=True),
    sa.Column('identified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('identified_by', sa.String(length=200), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_behaviour_identity')),
    sa.UniqueConstraint('anonymous_id', name=op.f('uq_behaviour_identity_anonymous_id')),
    )
    op.create_index(op.f('ix_behaviour_identity_customer_id'), 'behaviour_identity', ['customer_id'], unique=False)
    op.create_index('ix_behaviour_event_name', 'behaviour_event', ['name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_behaviour_event_name', table_name='behaviour_event')
    op.drop_index(op.f('ix_behaviour_identity_customer_id'), table_name='behaviour_identity')
    op.drop_table('behaviour_identity')
