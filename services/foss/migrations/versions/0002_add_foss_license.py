"""add foss.license

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("foss") as batch:
        batch.add_column(sa.Column("license", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_foss_license"), ["license"])


def downgrade() -> None:
    with op.batch_alter_table("foss") as batch:
        batch.drop_index(batch.f("ix_foss_license"))
        batch.drop_column("license")
