"""knowledge: articles with versions and approval, the coverage knowledge graph, the search index's generation

Revision ID: 0021
Revises: 0012
Create Date: 2026-11-28 01:00:00

Owned by helper H5 (issue 11, item 6).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0012'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('knowledge_article',
    sa.Column('state', sa.Enum('draft', 'published', 'retired', name='knowledge_article_state', native_enum=False, length=32), nullable=False),
    sa.Column('served_version_id', _ID, nullable=True),
    sa.Column('latest_number', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('index_stamp', sa.Integer(), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article'))
    )
    op.create_index('ix_knowledge_article_index_stamp', 'knowledge_article', ['index_stamp'], unique=False)
    op.create_table('knowledge_index_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('index_id', sa.String(length=36), nullable=False),
    sa.Column('stamp', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_index_state'))
    )
    op.create_table('knowledge_node',
    sa.Column('kind', sa.Enum('article', 'product', 'coverage_item', 'icd10', 'exclusion', name='knowledge_node_kind', native_enum=False, length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_node')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_knowledge_node_kind_key'))
    )
    op.create_table('knowledge_article_version',
    sa.Column('article_id', _ID, nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'in_review', 'published', 'superseded', 'retired', name='knowledge_version_state', native_enum=False, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reply_templates', sa.JSON(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=200), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.String(length=40), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_article.id'], name=op.f('fk_knowledge_article_version_article_id_knowledge_article')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article_version')),
    sa.UniqueConstraint('article_id', 'number', name=op.f('uq_knowledge_article_version_article_id_number'))
    )
    op.create_index(op.f('ix_knowledge_article_version_article_id'), 'knowledge_article_version', ['article_id'], unique=False)
    op.create_table('knowledge_edge',
    sa.Column('source_id', _ID, nullable=False),
    sa.Column('kind', sa.Enum('covers', 'excludes', 'explains', 'applies_to', name='knowledge_edge_kind', native_enum=False, length=32), nullable=False),
    sa.Column('target_id', _ID, nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['knowledge_node.id'], name=op.f('fk_knowledge_edge_source_id_knowledge_node')),
    sa.ForeignKeyConstraint(['target_id'], ['knowledge_node.id'], name=op.f('fk_knowledge_edge_target_id_knowledge_node')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_edge')),
    sa.UniqueConstraint('source_id', 'kind', 'target_id', name=op.f('uq_knowledge_edge_source_id_kind_target_id'))
    )
    op.create_index(op.f('ix_knowledge_edge_source_id'), 'knowledge_edge', ['source_id'], unique=False)
    op.create_index('ix_knowledge_edge_target', 'knowledge_edge', ['target_id', 'kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_knowledge_edge_target', table_name='knowledge_edge')
    op.drop_index(op.f('ix_knowledge_edge_source_id'), table_name='knowledge_edge')
    op.drop_table('knowledge_edge')
    op.drop_index(op.f('ix_knowledge_article_version_article_id'), table_name='knowledge_article_version')
    op.drop_table('knowledge_article_version')
    op.drop_table('knowledge_node')
    op.drop_table('knowledge_index_state')
    op.drop_index('ix_knowledge_article_index_stamp', table_name='knowledge_article')
    op.drop_table('knowledge_article')
