"""A record read as plain data: what ``to_dict()`` of the loaded model would give."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from flusk_common import read_record
from flusk_common._errors import ConfigurationError
from sample_app.models import Widget


def test_read_fields_as_loaded_model_gives_them(db_session: Session) -> None:
    widget = Widget(name="read", price=Decimal("1.50"))
    db_session.add(widget)
    db_session.flush()
    db_session.expire_all()
    loaded = db_session.get(Widget, widget.id)
    assert loaded is not None

    fields = read_record(db_session, Widget, widget.id)

    assert fields is not None
    assert fields == loaded.to_dict()
    assert list(fields) == list(loaded.to_dict())  # the same order, too
    assert fields["created_at"].tzinfo is not None


def test_read_nothing_for_unknown_key(db_session: Session) -> None:
    assert read_record(db_session, Widget, 2**31 - 1) is None


def test_read_sees_unflushed_changes_of_session(db_session: Session) -> None:
    widget = Widget(name="before")
    db_session.add(widget)
    db_session.flush()
    widget.name = "after"

    fields = read_record(db_session, Widget, widget.id)

    assert fields is not None
    assert fields["name"] == "after"


class _Base(DeclarativeBase):
    pass


class _Pair(_Base):
    __tablename__ = "pair"
    left: Mapped[int] = mapped_column(primary_key=True)
    right: Mapped[int] = mapped_column(primary_key=True)


def test_refuse_model_with_composite_key(db_session: Session) -> None:
    with pytest.raises(ConfigurationError, match="one column"):
        read_record(db_session, _Pair, (1, 2))
    assert sa.inspect(_Pair).primary_key  # the model itself is valid
