"""operations: customer tags (rule and manual), tag history and state, customer profiles for rules and
segments, classification schemes, segments, campaigns, experiments restricted to a segment

Revision ID: 0019
Revises: 0016
Create Date: 2026-11-28 00:45:00

Owned by helper H3 (issue 12, items 2-4).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('class_scheme',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('set_by', sa.String(length=200), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_scheme')),
    sa.UniqueConstraint('key', name=op.f('uq_class_scheme_key'))
    )
    op.create_table('customer_product',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_code', sa.String(length=40), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_product')),
    sa.UniqueConstraint('customer_id', 'product_code', name=op.f('uq_customer_product_customer_id_product_code'))
    )
    with op.batch_alter_table('customer_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_product_product_code'), ['product_code'], unique=False)

    op.create_table('customer_profile',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('city', sa.String(length=64), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_profile'))
    )
    op.create_table('segment',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('expression', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment')),
    sa.UniqueConstraint('key', name=op.f('uq_segment_key'))
    )
    op.create_table('tag',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('rule', 'manual', name='tag_kind', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('key', name=op.f('uq_tag_key'))
    )
    op.create_table('tag_cursor',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_tag_cursor'))
    )
    op.create_table('tag_state',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('recheck_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_tag_state'))
    )
    with op.batch_alter_table('tag_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_state_recheck_at'), ['recheck_at'], unique=False)

    op.create_table('campaign',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('segment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('offers', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_campaign_segment_id_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign')),
    sa.UniqueConstraint('key', name=op.f('uq_campaign_key'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_segment_id'), ['segment_id'], unique=False)

    op.create_table('customer_tag',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_customer_tag_tag_id_tag')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_tag')),
    sa.UniqueConstraint('customer_id', 'tag_id', name=op.f('uq_customer_tag_customer_id_tag_id'))
    )
    with op.batch_alter_table('customer_tag', schema=None) as batch_op:
        batch_op.create_index('ix_customer_tag_tag_customer', ['tag_id', 'customer_id'], unique=False)

    op.create_table('experiment_segment',
    sa.Column('experiment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('segment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_segment_experiment_id_experiment')),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_experiment_segment_segment_id_segment')),
    sa.PrimaryKeyConstraint('experiment_id', name=op.f('pk_experiment_segment'))
    )
    op.create_table('tag_history',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gained', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cause', sa.Enum('rule', 'manual', 'rebuild', 'redefined', name='tag_change', native_enum=False, length=32), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_tag_history_tag_id_tag')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_history'))
    )
    with op.batch_alter_table('tag_history', schema=None) as batch_op:
        batch_op.create_index('ix_tag_history_customer', ['customer_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tag_history_tag_id'), ['tag_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tag_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_history_tag_id'))
        batch_op.drop_index('ix_tag_history_customer')

    op.drop_table('tag_history')
    op.drop_table('experiment_segment')
    with op.batch_alter_table('customer_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_tag_tag_customer')

    op.drop_table('customer_tag')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_segment_id'))

    op.drop_table('campaign')
    with op.batch_alter_table('tag_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_state_recheck_at'))

    op.drop_table('tag_state')
    op.drop_table('tag_cursor')
    op.drop_table('tag')
    op.drop_table('segment')
    op.drop_table('customer_profile')
    with op.batch_alter_table('customer_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_product_product_code'))

    op.drop_table('customer_product')
    op.drop_table('class_scheme')
