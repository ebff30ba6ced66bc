"""claim reason codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 18:00:00

Owned by helper 'claims' (issue 8 items 2, 3, 12); a no-op until that work lands.
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
