"""payments: payee accounts, payment instructions, bank batches, returns files

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 21:30:00

Owned by helper C (issue 10: the payment rail and advances).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payee_account',
    sa.Column('owner_kind', sa.Enum('person', 'institution', name='payee_owner_kind', native_enum=False, length=32), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bank_code', sa.String(length=12), nullable=False),
    sa.Column('account_number', sa.Text(), nullable=False),
    sa.Column('holder_name', sa.Text(), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('registered_by', sa.String(length=200), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('row_uid', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payee_account'))
    )
    op.create_index('ix_payee_account_owner', 'payee_account', ['owner_kind', 'owner_id', 'id'], unique=False)
    op.create_index(op.f('ix_payee_account_row_uid'), 'payee_account', ['row_uid'], unique=True)
    op.create_table('payment_batch',
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('adapter', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_batch')),
    sa.UniqueConstraint('reference', name=op.f('uq_payment_batch_reference'))
    )
    op.create_table('payment_returns_file',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('settled', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.JSON(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_returns_file')),
    sa.UniqueConstraint('sha256', name=op.f('uq_payment_returns_file_sha256'))
    )
    op.create_table('payment_instruction',
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.Enum('claim_payout', 'advance_payout', 'repayment', 'refund', name='payment_purpose', native_enum=False, length=32), nullable=False),
    sa.Column('direction', sa.Enum('credit', 'debit', name='payment_direction', native_enum=False, length=32), nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payee_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.Enum('instructed', 'settled', 'failed', name='payment_instruction_state', native_enum=False, length=32), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('return_code', sa.String(length=8), nullable=True),
    sa.Column('bank_transaction', sa.String(length=40), nullable=True),
    sa.Column('instructed_by', sa.String(length=200), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['payment_batch.id'], name=op.f('fk_payment_instruction_batch_id_payment_batch')),
    sa.ForeignKeyConstraint(['payee_account_id'], ['payee_account.id'], name=op.f('fk_payment_instruction_payee_account_id_payee_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_instruction')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payment_instruction_idempotency_key')),
    sa.UniqueConstraint('purpose', 'source_id', 'attempt', name=op.f('uq_payment_instruction_purpose_source_id_attempt')),
    sa.UniqueConstraint('reference', name=op.f('uq_payment_instruction_reference'))
    )
    op.create_index(op.f('ix_payment_instruction_batch_id'), 'payment_instruction', ['batch_id'], unique=False)
    op.create_index('ix_payment_instruction_state_id', 'payment_instruction', ['state', 'id'], unique=False)
    op.create_index('uq_payment_instruction_live', 'payment_instruction', ['purpose', 'source_id'], unique=True, sqlite_where=sa.text("state IN ('instructed', 'settled')"), postgresql_where=sa.text("state IN ('instructed', 'settled')"))


def downgrade() -> None:
    op.drop_index('uq_payment_instruction_live', table_name='payment_instruction', sqlite_where=sa.text("state IN ('instructed', 'settled')"), postgresql_where=sa.text("state IN ('instructed', 'settled')"))
    op.drop_index('ix_payment_instruction_state_id', table_name='payment_instruction')
    op.drop_index(op.f('ix_payment_instruction_batch_id'), table_name='payment_instruction')
    op.drop_table('payment_instruction')
    op.drop_table('payment_returns_file')
    op.drop_table('payment_batch')
    op.drop_index(op.f('ix_payee_account_row_uid'), table_name='payee_account')
    op.drop_index('ix_payee_account_owner', table_name='payee_account')
    op.drop_table('payee_account')
    
