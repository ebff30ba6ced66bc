"""partner auth hardening

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:00:00

Owned by helper 'edges' (issue 8 items 4, 6); a no-op until that work lands.
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
