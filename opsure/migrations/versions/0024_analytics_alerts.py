"""analytics: alert rules (threshold and forecast), their history and webhook notifications

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28 01:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_STATE = ('ok', 'pending', 'firing', 'resolved')


def upgrade() -> None:
    op.create_table('analytics_alert_rule',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('threshold', 'forecast', name='analytics_alert_kind', native_enum=False, length=32), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('operator', sa.Enum('gt', 'gte', 'lt', 'lte', name='analytics_alert_operator', native_enum=False, length=32), nullable=True),
    sa.Column('threshold', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('grace_minutes', sa.Integer(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=True),
    sa.Column('webhook_secret', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum(*_STATE, name='analytics_alert_state', native_enum=False, length=32), nullable=False),
    sa.Column('state_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_value', sa.Numeric(precision=24, scale=8), nullable=True),
    sa.Column('last_evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('row_uid', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_alert_rule')),
    sa.UniqueConstraint('key', name=op.f('uq_analytics_alert_rule_key'))
    )
    op.create_index(op.f('ix_analytics_alert_rule_row_uid'), 'analytics_alert_rule', ['row_uid'], unique=True)
    op.create_table('analytics_alert_history',
    sa.Column('rule_id', _ID, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_state', sa.Enum(*_STATE, name='analytics_alert_state', native_enum=False, length=32), nullable=False),
    sa.Column('to_state', sa.Enum(*_STATE, name='analytics_alert_state', native_enum=False, length=32), nullable=False),
    sa.Column('value', sa.Numeric(precision=24, scale=8), nullable=True),
    sa.Column('low', sa.Numeric(precision=24, scale=8), nullable=True),
    sa.Column('high', sa.Numeric(precision=24, scale=8), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['analytics_alert_rule.id'],
                            name=op.f('fk_analytics_alert_history_rule_id_analytics_alert_rule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_alert_history'))
    )
    op.create_index(op.f('ix_analytics_alert_history_rule_id'), 'analytics_alert_history', ['rule_id'], unique=False)
    op.create_table('analytics_alert_notification',
    sa.Column('rule_id', _ID, nullable=False),
    sa.Column('history_id', _ID, nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=40), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['history_id'], ['analytics_alert_history.id'],
                            name=op.f('fk_analytics_alert_notification_history_id_analytics_alert_history')),
    sa.ForeignKeyConstraint(['rule_id'], ['analytics_alert_rule.id'],
                            name=op.f('fk_analytics_alert_notification_rule_id_analytics_alert_rule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_alert_notification')),
    sa.UniqueConstraint('history_id', name=op.f('uq_analytics_alert_notification_history_id'))
    )


def downgrade() -> None:
    op.drop_table('analytics_alert_notification')
    op.drop_index(op.f('ix_analytics_alert_history_rule_id'), table_name='analytics_alert_history')
    op.drop_table('analytics_alert_history')
    op.drop_index(op.f('ix_analytics_alert_rule_row_uid'), table_name='analytics_alert_rule')
    op.drop_table('analytics_alert_rule')
