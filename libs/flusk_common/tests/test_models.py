"""Model building blocks: serializers, UTCDateTime, Timestamps, Numeric and constraint names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from flusk_common import new_metadata
from flusk_common._models import serialize
from sample_app.models import Base, Part, Widget

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def _stored_widget(session: Session, **values: object) -> Widget:
    """A widget flushed and then read back from the database, not from the session's memory."""
    widget = Widget(**values)
    session.add(widget)
    session.flush()
    session.expire(widget)
    session.refresh(widget)
    return widget


@pytest.mark.parametrize(
    ("only", "exclude", "expected"),
    [
        (None, (), {"id", "name", "price", "created_at", "updated_at"}),
        (("name", "price"), (), {"name", "price"}),
        (None, ("created_at", "updated_at"), {"id", "name", "price"}),
        (("name", "price"), ("price",), {"name"}),
    ],
)
def test_serialize_selected_columns(
    only: tuple[str, ...] | None, exclude: tuple[str, ...], expected: set[str]
) -> None:
    widget = Widget(name="gear", price=Decimal("1.50"))

    assert set(widget.to_dict(only=only, exclude=exclude)) == expected
    assert serialize(widget, only=only, exclude=exclude) == widget.to_dict(
        only=only, exclude=exclude
    )


@pytest.mark.parametrize(("only", "exclude"), [(("colour",), ()), (None, ("colour",))])
def test_refuse_unknown_column_names(
    only: tuple[str, ...] | None, exclude: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="colour"):
        Widget(name="gear").to_dict(only=only, exclude=exclude)


def test_refuse_naive_datetime(db_session: Session) -> None:
    db_session.add(Widget(name="naive", created_at=datetime(2026, 1, 2, 3, 4, 5)))

    with pytest.raises(sa_exc.StatementError, match="naive datetime"):
        db_session.flush()


def test_read_datetime_back_in_utc(db_session: Session) -> None:
    written = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2)))

    widget = _stored_widget(db_session, name="aware", created_at=written)

    assert widget.created_at == written
    assert widget.created_at.utcoffset() == timedelta(0)


def test_set_timestamps_on_create(db_session: Session) -> None:
    before = datetime.now(UTC)

    widget = _stored_widget(db_session, name="new")

    after = datetime.now(UTC)
    assert before <= widget.created_at <= after
    assert before <= widget.updated_at <= after


def test_set_timestamps_in_database_on_insert(db_session: Session) -> None:
    db_session.execute(sa.text("INSERT INTO widget (name) VALUES ('raw')"))

    widget = db_session.scalars(sa.select(Widget).where(Widget.name == "raw")).one()

    assert widget.created_at.utcoffset() == widget.updated_at.utcoffset() == timedelta(0)


def test_move_updated_at_on_update(db_session: Session) -> None:
    widget = _stored_widget(db_session, name="old", created_at=LONG_AGO, updated_at=LONG_AGO)

    widget.name = "renamed"
    db_session.flush()
    db_session.refresh(widget)

    assert widget.created_at == LONG_AGO
    assert widget.updated_at > LONG_AGO


@pytest.mark.parametrize("price", ["0.01", "12.34", "99999999.99", "-5.00"])
def test_round_trip_decimal_price(db_session: Session, price: str) -> None:
    widget = _stored_widget(db_session, name="priced", price=Decimal(price))

    assert widget.price == Decimal(price)


def test_round_trip_price_over_http(client: FlaskClient) -> None:
    location = client.post("/widgets", json={"name": "priced", "price": 12.34}).headers["Location"]

    assert Decimal(client.get(location).get_json()["price"]) == Decimal("12.34")


def test_name_constraints_by_convention(db_session: Session) -> None:
    inspector = sa.inspect(db_session.connection())

    assert Widget.__table__.primary_key.name == "pk_widget"
    assert [uq["name"] for uq in inspector.get_unique_constraints("widget")] == ["uq_widget_name"]
    assert [fk["name"] for fk in inspector.get_foreign_keys("part")] == ["fk_part_widget_id_widget"]
    assert {constraint.name for constraint in Part.__table__.constraints} == {
        "pk_part",
        "fk_part_widget_id_widget",
    }


def test_name_indexes_and_checks_by_convention() -> None:
    table = sa.Table(
        "gadget",
        new_metadata(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.Integer, index=True),
        sa.CheckConstraint("size > 0", name="positive_size"),
    )

    assert {index.name for index in table.indexes} == {"ix_gadget_size"}
    assert "ck_gadget_positive_size" in {constraint.name for constraint in table.constraints}
    assert Base.metadata.naming_convention == table.metadata.naming_convention


def test_create_with_one_instant(client: FlaskClient) -> None:
    """A new record was last updated when it was created: both timestamps are equal."""
    body = client.post("/gadgets", json={"name": "Now"}).get_json()
    assert body["created_at"] == body["updated_at"]
