"""claims operations: the rule library (versions of the risk decision table, the pinned one), claim assignees,
document reminders, QA samples, claim flow templates

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-27 21:30:00

Owned by helper 'rules-risk' (issue 10, items 4-6).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('claim_rule_version',
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'rolled_back', name='rule_version_status', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('based_on', sa.String(length=40), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('publish_seq', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.String(length=200), nullable=True),
    sa.Column('rolled_back_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rolled_back_by', sa.String(length=200), nullable=True),
    sa.Column('rollback_reason', sa.String(length=500), nullable=True),
    sa.Column('last_tested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_test_claims', sa.Integer(), nullable=True),
    sa.Column('last_test_changed', sa.Integer(), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_rule_version')),
    sa.UniqueConstraint('label', name=op.f('uq_claim_rule_version_label')),
    sa.UniqueConstraint('publish_seq', name=op.f('uq_claim_rule_version_publish_seq')),
    )
    op.create_table('claim_rule_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pinned_id', _ID, nullable=True),
    sa.Column('changed_by', sa.String(length=200), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pinned_id'], ['claim_rule_version.id'], name=op.f('fk_claim_rule_state_pinned_id_claim_rule_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_rule_state')),
    )
    op.create_table('claim_qa_sample',
    sa.Column('claim_id', _ID, nullable=False),
    sa.Column('adjuster', sa.String(length=200), nullable=False),
    sa.Column('product_id', _ID, nullable=False),
    sa.Column('sampled_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'reviewed', name='qa_status', native_enum=False, length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('reviewer', sa.String(length=200), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_qa_sample_claim_id_claim')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_claim_qa_sample_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_qa_sample')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_claim_qa_sample_claim_id')),
    )
    op.create_index(op.f('ix_claim_qa_sample_adjuster'), 'claim_qa_sample', ['adjuster'], unique=False)
    op.create_table('claim_flow_template',
    sa.Column('product_id', _ID, nullable=False),
    sa.Column('claim_type', sa.Enum('inpatient', 'outpatient', name='claim_type', native_enum=False, length=32), nullable=False),
    sa.Column('required_documents', sa.JSON(), nullable=False),
    sa.Column('investigate_above', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_claim_flow_template_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_flow_template')),
    sa.UniqueConstraint('product_id', 'claim_type', name=op.f('uq_claim_flow_template_product_id_claim_type')),
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_claim_assignee'), ['assignee'], unique=False)
    with op.batch_alter_table('claim_document_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_reminded_on', sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_table('claim_flow_template')
    op.drop_index(op.f('ix_claim_qa_sample_adjuster'), table_name='claim_qa_sample')
    op.drop_table('claim_qa_sample')
    with op.batch_alter_table('claim_document_request', schema=None) as batch_op:
        batch_op.drop_column('last_reminded_on')
        batch_op.drop_column('reminder_count')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_assignee'))
        batch_op.drop_column('assignee')
    op.drop_table('claim_rule_state')
    op.drop_table('claim_rule_version')
