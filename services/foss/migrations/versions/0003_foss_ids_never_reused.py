"""foss ids never reused on SQLite (AUTOINCREMENT)

Without AUTOINCREMENT, SQLite hands the id of a deleted newest record to the next one.
The table is rebuilt with it (batch mode copies every row, index and constraint);
PostgreSQL's sequences never go back, so there is nothing to do there.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "foss", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
