"""payment returns lines held for retry: a line whose owner's handler failed is retried with backoff,
then dead-lettered (nothing lost); premium refunds (a policy's cancellation or surrender) paid through the rail

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-28 01:30:00

Owned by helper H1 (issue 10, claims platform II: the rail's returns).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('payment_return_hold',
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('settled', sa.Boolean(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('detail', sa.String(length=40), nullable=False),
    sa.Column('state', sa.Enum('retrying', 'dead_letter', 'applied', name='payment_return_hold_state',
                               native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=120), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_return_hold')),
    )
    op.create_index('ix_payment_return_hold_state_next', 'payment_return_hold', ['state', 'next_attempt_at'])
    op.create_index(op.f('ix_payment_return_hold_reference'), 'payment_return_hold', ['reference'])
    op.create_table('payment_refund',
    sa.Column('policy_id', _ID, nullable=False),
    sa.Column('customer_id', _ID, nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('state', sa.Enum('awaiting_account', 'instructed', 'settled', 'failed', name='payment_refund_state',
                               native_enum=False, length=32), nullable=False),
    sa.Column('event_id', _ID, nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_refund')),
    sa.UniqueConstraint('policy_id', name=op.f('uq_payment_refund_policy_id')),
    )
    op.create_index(op.f('ix_payment_refund_customer_id'), 'payment_refund', ['customer_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_payment_refund_customer_id'), table_name='payment_refund')
    op.drop_table('payment_refund')
    op.drop_index(op.f('ix_payment_return_hold_reference'), table_name='payment_return_hold')
    op.drop_index('ix_payment_return_hold_state_next', table_name='payment_return_hold')
    op.drop_table('payment_return_hold')
