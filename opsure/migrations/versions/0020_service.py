"""service: work orders with routing and SLAs, comments, timeline, SLA breaches, complaints, agents

Revision ID: 0020
Revises: 0012
Create Date: 2026-11-28 00:40:00

Owned by helper H4 (issue 11, items 1, 2 and 9).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0012'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('service_agent',
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=40), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('load', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('load >= 0 AND load <= capacity', name=op.f('ck_service_agent_load_within_capacity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_agent')),
    sa.UniqueConstraint('subject', name=op.f('uq_service_agent_subject'))
    )
    op.create_index('ix_service_agent_team', 'service_agent', ['team', 'active'], unique=False)
    op.create_table('work_order',
    sa.Column('type', sa.Enum('consultation', 'complaint', 'claim_follow_up', 'policy_change', 'callback', 'health_service', 'internal', name='work_order_type', native_enum=False, length=32), nullable=False),
    sa.Column('state', sa.Enum('new', 'open', 'pending_customer', 'pending_internal', 'resolved', 'closed', 'merged', name='work_order_state', native_enum=False, length=32), nullable=False),
    sa.Column('priority', sa.Enum('low', 'normal', 'high', 'urgent', name='work_order_priority', native_enum=False, length=32), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('customer_id', _ID, nullable=True),
    sa.Column('policy_id', _ID, nullable=True),
    sa.Column('claim_id', _ID, nullable=True),
    sa.Column('advance_id', _ID, nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=40), nullable=False),
    sa.Column('skill', sa.String(length=40), nullable=False),
    sa.Column('assignee_id', _ID, nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agent_active_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('skip_agent_id', _ID, nullable=True),
    sa.Column('first_response_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_response_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('merged_into_id', _ID, nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('row_uid', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['service_agent.id'], name=op.f('fk_work_order_assignee_id_service_agent')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_work_order_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order'))
    )
    op.create_index('ix_work_order_customer', 'work_order', ['customer_id', 'id'], unique=False)
    op.create_index('ix_work_order_queue', 'work_order', ['state', 'assignee_id', 'waiting_since', 'id'], unique=False)
    op.create_index(op.f('ix_work_order_row_uid'), 'work_order', ['row_uid'], unique=True)
    op.create_table('complaint',
    sa.Column('work_order_id', _ID, nullable=False),
    sa.Column('channel', sa.Enum('phone', 'app', 'web', 'wechat', 'email', 'letter', 'branch', 'regulator', name='complaint_channel', native_enum=False, length=32), nullable=False),
    sa.Column('category', sa.Enum('claim_decision', 'claim_delay', 'policy_change', 'mis_selling', 'service_attitude', 'premium_billing', 'privacy', 'other', name='complaint_category', native_enum=False, length=32), nullable=False),
    sa.Column('severity', sa.Enum('low', 'medium', 'high', 'critical', name='complaint_severity', native_enum=False, length=32), nullable=False),
    sa.Column('state', sa.Enum('received', 'escalated', 'resolved', 'acknowledged', 'disputed', name='complaint_state', native_enum=False, length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('regulator_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('cause_claim_id', _ID, nullable=True),
    sa.Column('cause_policy_id', _ID, nullable=True),
    sa.Column('cause_agent', sa.String(length=200), nullable=True),
    sa.Column('escalated_to', sa.String(length=200), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('upheld', 'partially_upheld', 'not_upheld', name='complaint_outcome', native_enum=False, length=32), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted', sa.Boolean(), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_complaint_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('work_order_id', name=op.f('uq_complaint_work_order_id'))
    )
    op.create_table('work_order_activity',
    sa.Column('work_order_id', _ID, nullable=False),
    sa.Column('kind', sa.Enum('created', 'state_changed', 'assigned', 'unassigned', 'transferred', 'commented', 'sla_breached', 'escalated', 'merged', 'complaint_resolved', 'complaint_acknowledged', name='work_order_activity_kind', native_enum=False, length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('from_state', sa.Enum('new', 'open', 'pending_customer', 'pending_internal', 'resolved', 'closed', 'merged', name='work_order_state', native_enum=False, length=32), nullable=True),
    sa.Column('to_state', sa.Enum('new', 'open', 'pending_customer', 'pending_internal', 'resolved', 'closed', 'merged', name='work_order_state', native_enum=False, length=32), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_work_order_activity_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_activity'))
    )
    op.create_index('ix_work_order_activity_order', 'work_order_activity', ['work_order_id', 'id'], unique=False)
    op.create_table('work_order_breach',
    sa.Column('work_order_id', _ID, nullable=False),
    sa.Column('sla', sa.Enum('first_response', 'next_response', 'resolution', 'regulator', name='work_order_sla', native_enum=False, length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_work_order_breach_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_breach')),
    sa.UniqueConstraint('work_order_id', 'sla', 'due_at', name=op.f('uq_work_order_breach_work_order_id_sla_due_at'))
    )
    op.create_index(op.f('ix_work_order_breach_work_order_id'), 'work_order_breach', ['work_order_id'], unique=False)
    op.create_table('work_order_comment',
    sa.Column('work_order_id', _ID, nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('by_customer', sa.Boolean(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('row_uid', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_work_order_comment_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_comment'))
    )
    op.create_index('ix_work_order_comment_order', 'work_order_comment', ['work_order_id', 'id'], unique=False)
    op.create_index(op.f('ix_work_order_comment_row_uid'), 'work_order_comment', ['row_uid'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_work_order_comment_row_uid'), table_name='work_order_comment')
    op.drop_index('ix_work_order_comment_order', table_name='work_order_comment')
    op.drop_table('work_order_comment')
    op.drop_index(op.f('ix_work_order_breach_work_order_id'), table_name='work_order_breach')
    op.drop_table('work_order_breach')
    op.drop_index('ix_work_order_activity_order', table_name='work_order_activity')
    op.drop_table('work_order_activity')
    op.drop_table('complaint')
    op.drop_index(op.f('ix_work_order_row_uid'), table_name='work_order')
    op.drop_index('ix_work_order_queue', table_name='work_order')
    op.drop_index('ix_work_order_customer', table_name='work_order')
    op.drop_table('work_order')
    op.drop_index('ix_service_agent_team', table_name='service_agent')
    op.drop_table('service_agent')
