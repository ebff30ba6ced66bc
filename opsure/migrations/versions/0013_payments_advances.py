"""payments and advances: payee accounts, payment instructions, bank batches, returns files; advances, instalments, movements

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

    op.create_table('advance',
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('policy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('claim_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('case_reference', sa.String(length=64), nullable=False),
    sa.Column('diagnosis_code', sa.String(length=10), nullable=False),
    sa.Column('admission_date', sa.Date(), nullable=False),
    sa.Column('hospital', sa.String(length=200), nullable=False),
    sa.Column('requested', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('state', sa.Enum('in_review', 'approved', 'rejected', 'paid', 'overdue', 'defaulted', 'closed', name='advance_state', native_enum=False, length=32), nullable=False),
    sa.Column('decision', sa.Enum('pay_first', 'manual_approved', 'manual_rejected', name='advance_decision', native_enum=False, length=32), nullable=True),
    sa.Column('credit_report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('score_band', sa.Integer(), nullable=True),
    sa.Column('advanced', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('repaid', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('offset_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('written_off', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('outstanding', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('applied_by', sa.String(length=200), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('payout_key', sa.String(length=80), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('overdue_since', sa.Date(), nullable=True),
    sa.Column('defaulted_on', sa.Date(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('abs(advanced - (repaid + offset_amount + outstanding + written_off)) < 0.005', name=op.f('ck_advance_balance')),
    sa.CheckConstraint('outstanding >= 0 AND repaid >= 0 AND offset_amount >= 0 AND written_off >= 0', name=op.f('ck_advance_not_negative')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_advance_claim_id_claim')),
    sa.ForeignKeyConstraint(['credit_report_id'], ['signed_record.id'], name=op.f('fk_advance_credit_report_id_signed_record')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_advance_customer_id_customer')),
    sa.ForeignKeyConstraint(['policy_id'], ['policy.id'], name=op.f('fk_advance_policy_id_policy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advance')),
    sa.UniqueConstraint('number', name=op.f('uq_advance_number')),
    sa.UniqueConstraint('payout_key', name=op.f('uq_advance_payout_key'))
    )
    op.create_index(op.f('ix_advance_claim_id'), 'advance', ['claim_id'], unique=False)
    op.create_index(op.f('ix_advance_customer_id'), 'advance', ['customer_id'], unique=False)
    op.create_index(op.f('ix_advance_policy_id'), 'advance', ['policy_id'], unique=False)
    op.create_index('ix_advance_state_id', 'advance', ['state', 'id'], unique=False)
    op.create_table('advance_installment',
    sa.Column('advance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('covered', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['advance_id'], ['advance.id'], name=op.f('fk_advance_installment_advance_id_advance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advance_installment')),
    sa.UniqueConstraint('advance_id', 'seq', name=op.f('uq_advance_installment_advance_id_seq'))
    )
    op.create_index(op.f('ix_advance_installment_advance_id'), 'advance_installment', ['advance_id'], unique=False)
    op.create_table('advance_movement',
    sa.Column('advance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('repayment', 'offset', 'write_off', name='advance_movement_kind', native_enum=False, length=32), nullable=False),
    sa.Column('state', sa.Enum('instructed', 'applied', 'failed', name='advance_movement_state', native_enum=False, length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('claim_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('on_day', sa.Date(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['advance_id'], ['advance.id'], name=op.f('fk_advance_movement_advance_id_advance')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_advance_movement_claim_id_claim')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advance_movement')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_advance_movement_idempotency_key'))
    )
    op.create_index(op.f('ix_advance_movement_advance_id'), 'advance_movement', ['advance_id'], unique=False)

def downgrade() -> None:
    op.drop_index(op.f('ix_advance_movement_advance_id'), table_name='advance_movement')
    op.drop_table('advance_movement')
    op.drop_index(op.f('ix_advance_installment_advance_id'), table_name='advance_installment')
    op.drop_table('advance_installment')
    op.drop_index('ix_advance_state_id', table_name='advance')
    op.drop_index(op.f('ix_advance_policy_id'), table_name='advance')
    op.drop_index(op.f('ix_advance_customer_id'), table_name='advance')
    op.drop_index(op.f('ix_advance_claim_id'), table_name='advance')
    op.drop_table('advance')
    op.drop_index('uq_payment_instruction_live', table_name='payment_instruction', sqlite_where=sa.text("state IN ('instructed', 'settled')"), postgresql_where=sa.text("state IN ('instructed', 'settled')"))
    op.drop_index('ix_payment_instruction_state_id', table_name='payment_instruction')
    op.drop_index(op.f('ix_payment_instruction_batch_id'), table_name='payment_instruction')
    op.drop_table('payment_instruction')
    op.drop_table('payment_returns_file')
    op.drop_table('payment_batch')
    op.drop_index(op.f('ix_payee_account_row_uid'), table_name='payee_account')
    op.drop_index('ix_payee_account_owner', table_name='payee_account')
    op.drop_table('payee_account')
    
