"""foss ids never reused on SQLite (AUTOINCREMENT)

Without AUTOINCREMENT, SQLite hands the id of a deleted newest record to the next one.
The table is rebuilt with it (batch mode copies every row, index and constraint);
PostgreSQL's sequences never go back, so there is nothing to do there.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _foss_table() -> sa.Table:
    """The table as revision 0002 left it, so that batch mode needs no reflection (--sql)."""
    return sa.Table(
        "foss",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("license", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_foss"),
        sa.UniqueConstraint("email", name="uq_foss_email"),
        sa.Index("ix_foss_license", "license"),
    )


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "foss",
        copy_from=_foss_table(),
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
    ):
        pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
