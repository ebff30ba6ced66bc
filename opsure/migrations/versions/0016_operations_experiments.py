"""operations: experiments on process flows, exposures (sticky assignments), QA overrides, outcomes;
behaviour events

Revision ID: 0016
Revises: 0012
Create Date: 2026-11-27 22:00:00

Owned by helper 'experiments' (issue 12, item 5).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0012'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('experiment',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('flow', sa.Enum('claim', 'consultation', 'health_questionnaire', 'callback', name='experiment_flow', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('draft', 'running', 'stopped', 'killed', name='experiment_status', native_enum=False, length=32), nullable=False),
    sa.Column('variants', sa.JSON(), nullable=False),
    sa.Column('coverage', sa.Float(), nullable=False),
    sa.Column('namespace', sa.String(length=64), nullable=False),
    sa.Column('namespace_start', sa.Float(), nullable=False),
    sa.Column('namespace_end', sa.Float(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('hash_version', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('status_changed_by', sa.String(length=200), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment')),
    sa.UniqueConstraint('key', name=op.f('uq_experiment_key')),
    )
    op.create_table('experiment_exposure',
    sa.Column('experiment_id', _ID, nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('variant', sa.Integer(), nullable=False),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.Column('exposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_exposure_experiment_id_experiment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_exposure')),
    sa.UniqueConstraint('experiment_id', 'subject', name=op.f('uq_experiment_exposure_experiment_id_subject')),
    )
    op.create_index(op.f('ix_experiment_exposure_experiment_id'), 'experiment_exposure', ['experiment_id'], unique=False)
    op.create_table('experiment_forced_variant',
    sa.Column('experiment_id', _ID, nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('variant', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.String(length=200), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_forced_variant_experiment_id_experiment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_forced_variant')),
    sa.UniqueConstraint('experiment_id', 'subject', name=op.f('uq_experiment_forced_variant_experiment_id_subject')),
    )
    op.create_table('experiment_outcome',
    sa.Column('experiment_id', _ID, nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('variant', sa.Integer(), nullable=False),
    sa.Column('converted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds_to_settle', sa.Float(), nullable=False),
    sa.Column('source_event_id', _ID, nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_outcome_experiment_id_experiment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_outcome')),
    sa.UniqueConstraint('experiment_id', 'subject', name=op.f('uq_experiment_outcome_experiment_id_subject')),
    )
    op.create_index(op.f('ix_experiment_outcome_experiment_id'), 'experiment_outcome', ['experiment_id'], unique=False)
    op.create_table('behaviour_event',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('customer_id', _ID, nullable=True),
    sa.Column('anonymous_id', sa.String(length=64), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_behaviour_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_behaviour_event_event_id')),
    )
    op.create_index(op.f('ix_behaviour_event_customer_id'), 'behaviour_event', ['customer_id'], unique=False)
    op.create_index(op.f('ix_behaviour_event_anonymous_id'), 'behaviour_event', ['anonymous_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_behaviour_event_anonymous_id'), table_name='behaviour_event')
    op.drop_index(op.f('ix_behaviour_event_customer_id'), table_name='behaviour_event')
    op.drop_table('behaviour_event')
    op.drop_index(op.f('ix_experiment_outcome_experiment_id'), table_name='experiment_outcome')
    op.drop_table('experiment_outcome')
    op.drop_table('experiment_forced_variant')
    op.drop_index(op.f('ix_experiment_exposure_experiment_id'), table_name='experiment_exposure')
    op.drop_table('experiment_exposure')
    op.drop_table('experiment')
