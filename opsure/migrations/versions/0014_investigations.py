"""investigations: investigations of claims by assessor firms, their offers, trail, escalations, firm profiles

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-27 21:30:00

Owned by helper D (issue 10, item 2).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('assessor_firm_profile',
    sa.Column('partner_id', _ID, nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('quality_score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_assessor_firm_profile_partner_id_partner')),
    sa.PrimaryKeyConstraint('partner_id', name=op.f('pk_assessor_firm_profile'))
    )
    op.create_table('investigation',
    sa.Column('claim_id', _ID, nullable=False),
    sa.Column('state', sa.Enum('pending', 'assigned', 'in_progress', 'reported', 'completed', 'report_rejected', name='investigation_state', native_enum=False, length=32), nullable=False),
    sa.Column('trigger', sa.Enum('adjuster', 'risk_rule', name='investigation_trigger', native_enum=False, length=32), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('region', sa.String(length=12), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_due_on', sa.Date(), nullable=True),
    sa.Column('current_assignment_id', _ID, nullable=True),
    sa.Column('accept_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('visit_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_visit_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('survey_record_id', _ID, nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_outcome', sa.Enum('accepted', 'more_requested', 'rejected', name='review_outcome', native_enum=False, length=32), nullable=True),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('row_uid', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_investigation_claim_id_claim')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_investigation')),
    sa.UniqueConstraint('survey_record_id', name=op.f('uq_investigation_survey_record_id'))
    )
    op.create_index(op.f('ix_investigation_claim_id'), 'investigation', ['claim_id'], unique=False)
    op.create_index(op.f('ix_investigation_row_uid'), 'investigation', ['row_uid'], unique=True)
    op.create_index('ix_investigation_state_id', 'investigation', ['state', 'id'], unique=False)
    op.create_table('investigation_assignment',
    sa.Column('investigation_id', _ID, nullable=False),
    sa.Column('partner_id', _ID, nullable=False),
    sa.Column('partner_assignment_id', _ID, nullable=True),
    sa.Column('how', sa.Enum('auto', 'manual', name='investigation_assignment_how', native_enum=False, length=32), nullable=False),
    sa.Column('state', sa.Enum('offered', 'accepted', 'declined', 'expired', 'withdrawn', 'done', name='investigation_assignment_state', native_enum=False, length=32), nullable=False),
    sa.Column('assigned_by', sa.String(length=200), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accept_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responded_by', sa.String(length=200), nullable=True),
    sa.Column('decline_reason', sa.Enum('no_capacity', 'out_of_region', 'conflict_of_interest', 'lacks_expertise', 'other', name='decline_reason', native_enum=False, length=32), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('accepted', 'more_requested', 'rejected', name='review_outcome', native_enum=False, length=32), nullable=True),
    sa.Column('report_on_time', sa.Boolean(), nullable=True),
    sa.Column('more_requested', sa.Integer(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['investigation_id'], ['investigation.id'], name=op.f('fk_investigation_assignment_investigation_id_investigation')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_investigation_assignment_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_investigation_assignment')),
    sa.UniqueConstraint('partner_assignment_id', name=op.f('uq_investigation_assignment_partner_assignment_id'))
    )
    op.create_index('ix_investigation_assignment_investigation', 'investigation_assignment', ['investigation_id', 'id'], unique=False)
    op.create_index('ix_investigation_assignment_partner_state', 'investigation_assignment', ['partner_id', 'state'], unique=False)
    op.create_table('investigation_escalation',
    sa.Column('investigation_id', _ID, nullable=False),
    sa.Column('assignment_id', _ID, nullable=False),
    sa.Column('sla', sa.Enum('acceptance', 'first_visit', 'report', name='investigation_sla', native_enum=False, length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['investigation_id'], ['investigation.id'], name=op.f('fk_investigation_escalation_investigation_id_investigation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_investigation_escalation')),
    sa.UniqueConstraint('investigation_id', 'sla', 'assignment_id', name=op.f('uq_investigation_escalation_investigation_id_sla_assignment_id'))
    )
    op.create_index(op.f('ix_investigation_escalation_investigation_id'), 'investigation_escalation', ['investigation_id'], unique=False)
    op.create_table('investigation_event',
    sa.Column('investigation_id', _ID, nullable=False),
    sa.Column('assignment_id', _ID, nullable=False),
    sa.Column('kind', sa.Enum('visit', 'call', 'document', 'finding', name='investigation_event_kind', native_enum=False, length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('finding_code', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('ledger_record_id', _ID, nullable=False),
    sa.Column('commitment', sa.String(length=66), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('row_uid', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['investigation_assignment.id'], name=op.f('fk_investigation_event_assignment_id_investigation_assignment')),
    sa.ForeignKeyConstraint(['investigation_id'], ['investigation.id'], name=op.f('fk_investigation_event_investigation_id_investigation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_investigation_event')),
    sa.UniqueConstraint('ledger_record_id', name=op.f('uq_investigation_event_ledger_record_id'))
    )
    op.create_index('ix_investigation_event_investigation', 'investigation_event', ['investigation_id', 'id'], unique=False)
    op.create_index(op.f('ix_investigation_event_row_uid'), 'investigation_event', ['row_uid'], unique=True)


def downgrade() -> None:
    op.drop_table('investigation_event')
    op.drop_table('investigation_escalation')
    op.drop_table('investigation_assignment')
    op.drop_table('investigation')
    op.drop_table('assessor_firm_profile')
