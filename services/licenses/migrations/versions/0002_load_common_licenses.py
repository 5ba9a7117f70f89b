"""load common licenses

A fresh database starts with the licenses most projects use; they can be changed or
removed through the API like any other. Downgrading removes only those still unchanged.

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

# spdx_id, name, osi_approved
COMMON_LICENSES = [
    ("0BSD", "BSD Zero Clause License", True),
    ("AGPL-3.0-only", "GNU Affero General Public License v3.0 only", True),
    ("Apache-2.0", "Apache License 2.0", True),
    ("BSD-2-Clause", 'BSD 2-Clause "Simplified" License', True),
    ("BSD-3-Clause", 'BSD 3-Clause "New" or "Revised" License', True),
    ("CC0-1.0", "Creative Commons Zero v1.0 Universal", False),
    ("EPL-2.0", "Eclipse Public License 2.0", True),
    ("GPL-2.0-only", "GNU General Public License v2.0 only", True),
    ("GPL-2.0-or-later", "GNU General Public License v2.0 or later", True),
    ("GPL-3.0-only", "GNU General Public License v3.0 only", True),
    ("GPL-3.0-or-later", "GNU General Public License v3.0 or later", True),
    ("ISC", "ISC License", True),
    ("LGPL-2.1-only", "GNU Lesser General Public License v2.1 only", True),
    ("LGPL-3.0-only", "GNU Lesser General Public License v3.0 only", True),
    ("MIT", "MIT License", True),
    ("MPL-2.0", "Mozilla Public License 2.0", True),
    ("Unlicense", "The Unlicense", True),
    ("Zlib", "zlib License", True),
]

licenses = sa.table(
    "licenses",
    sa.column("spdx_id", sa.String),
    sa.column("name", sa.String),
    sa.column("osi_approved", sa.Boolean),
    sa.column("url", sa.String),
)


def _url(spdx_id: str) -> str:
    return f"https://spdx.org/licenses/{spdx_id}.html"


def upgrade() -> None:
    # One INSERT ... SELECT ... WHERE NOT EXISTS per license: a license a downgrade kept
    # (changed since it was loaded) stays as it is, and offline (--sql) mode still works.
    for spdx_id, name, osi_approved in COMMON_LICENSES:
        row = sa.select(
            sa.literal(spdx_id, sa.String),
            sa.literal(name, sa.String),
            sa.literal(osi_approved, sa.Boolean),
            sa.literal(_url(spdx_id), sa.String),
        ).where(~sa.exists().where(licenses.c.spdx_id == spdx_id))
        op.execute(licenses.insert().from_select(["spdx_id", "name", "osi_approved", "url"], row))


def downgrade() -> None:
    # Only a license still exactly as loaded: a changed name, approval or URL keeps it.
    for spdx_id, name, osi_approved in COMMON_LICENSES:
        op.execute(
            licenses.delete().where(
                licenses.c.spdx_id == spdx_id,
                licenses.c.name == name,
                licenses.c.osi_approved == osi_approved,
                licenses.c.url == _url(spdx_id),
            )
        )
