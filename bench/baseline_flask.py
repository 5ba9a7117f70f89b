"""The bare Flask baseline: Flask and the SQLAlchemy ORM on foss's table, no middleware.

What a user would write without Flusk: one engine, a session per view, the ORM for reads
and writes, Flask's own JSON. No request id, CORS, auth, validation, problem+json or
access log. Served by gunicorn with 2 sync workers, like the services:
``gunicorn -w 2 bench.baseline_flask:app`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, request
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

PAGE_SIZE = 20


class Base(DeclarativeBase):
    pass


class Foss(Base):
    __tablename__ = "foss"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    license: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "license": self.license,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


app = Flask(__name__)
engine = sa.create_engine(os.environ["DATABASE_URL"])


@app.get("/foss/<int:foss_id>")
def get_foss(foss_id: int) -> dict[str, Any]:
    with Session(engine) as session:
        foss = session.get(Foss, foss_id)
        if foss is None:
            abort(404)
        return foss.to_dict()


@app.get("/foss")
def list_foss() -> dict[str, Any]:
    after = request.args.get("after", 0, type=int)
    with Session(engine) as session:
        statement = sa.select(Foss).where(Foss.id > after).order_by(Foss.id).limit(PAGE_SIZE + 1)
        rows = session.scalars(statement).all()
        page = rows[:PAGE_SIZE]
        return {
            "items": [foss.to_dict() for foss in page],
            "next_after": page[-1].id if len(rows) > PAGE_SIZE else None,
        }


@app.post("/foss")
def create_foss() -> tuple[dict[str, Any], int]:
    data = request.get_json()
    now = datetime.now(UTC)
    foss = Foss(name=data["name"], email=data["email"].lower(), created_at=now, updated_at=now)
    with Session(engine) as session:
        session.add(foss)
        session.flush()
        body = foss.to_dict()  # before the commit, which would expire it (one more SELECT)
        session.commit()
    return body, 201
