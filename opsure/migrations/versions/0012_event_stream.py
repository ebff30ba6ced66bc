"""event stream: the domain-event outbox, consumer positions, dead letters

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-27 20:30:00

Owned by helper 'stream' (issue 14's core).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('domain_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('version', sa.SmallInteger(), nullable=False),
    sa.Column('aggregate_type', sa.String(length=40), nullable=False),
    sa.Column('aggregate_id', sa.BigInteger(), nullable=False),
    sa.Column('aggregate_version', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('actor_subject', sa.String(length=200), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('readers', sa.String(length=200), nullable=False),
    sa.Column('correlation_id', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_event')),
    sqlite_autoincrement=True,
    )

    op.create_table('event_consumer',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failing_event_id', sa.BigInteger(), nullable=True),
    sa.Column('failing_attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_event_consumer'))
    )
    op.create_table('event_dead_letter',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('consumer', sa.String(length=80), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('dead', 'retry', 'resolved', name='dead_letter_state', native_enum=False, length=16), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_dead_letter')),
    sa.UniqueConstraint('consumer', 'event_id', name=op.f('uq_event_dead_letter_consumer_event_id'))
    )
    with op.batch_alter_table('event_dead_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_dead_letter_consumer'), ['consumer'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_dead_letter_event_id'), ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event_dead_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_dead_letter_event_id'))
        batch_op.drop_index(batch_op.f('ix_event_dead_letter_consumer'))
    op.drop_table('event_dead_letter')
    op.drop_table('event_consumer')
    op.drop_table('domain_event')
