"""Keyset pagination: every row exactly once, in key order, and cursors no key can be refused."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from flusk_common import ValidationFailed, fetch_page, fetch_record_page
from flusk_common._pagination import decode_cursor, encode_cursor
from flusk_common.testing import assert_problem
from sample_app.models import Widget


def _add_widgets(session: Session, count: int) -> list[int]:
    widgets = [Widget(name=f"widget {index}") for index in range(count)]
    session.add_all(widgets)
    session.flush()
    return [widget.id for widget in widgets]


@pytest.mark.parametrize(("count", "limit", "pages"), [(0, 5, 1), (21, 7, 3), (25, 7, 4)])
def test_fetch_every_row_once_in_key_order(
    db_session: Session, count: int, limit: int, pages: int
) -> None:
    ids = _add_widgets(db_session, count)
    seen: list[list[int]] = []
    cursor = None

    while True:
        page = fetch_page(db_session, sa.select(Widget), key=Widget.id, limit=limit, cursor=cursor)
        seen.append([widget.id for widget in page.items])
        if page.next_key is None:
            assert page.to_dict()["next_cursor"] is None
            break
        assert page.next_key == seen[-1][-1]
        cursor = page.to_dict()["next_cursor"]
        assert cursor == encode_cursor(page.next_key)

    assert len(seen) == pages
    assert [widget_id for page_ids in seen for widget_id in page_ids] == sorted(ids)


@pytest.mark.parametrize("key", [1, 0, 10**18 - 1, "abc", "ünï/+=code"])
def test_round_trip_cursor(key: int | str) -> None:
    assert decode_cursor(encode_cursor(key), key_type=type(key)) == key


@pytest.mark.parametrize(
    ("cursor", "key_type"),
    [
        ("", int),
        ("garbage!", int),
        ("ünïcode", int),
        ("-1", int),
        ("01", int),
        ("1.5", int),
        (" 1", int),
        ("1\n", int),
        ("9" * 19, int),
        ("", str),
        ("MIT\u0000", str),
    ],
)
def test_refuse_invalid_cursor(cursor: str, key_type: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        decode_cursor(cursor, key_type=key_type)

    assert raised.value.status == 422
    assert [error.pointer for error in raised.value.errors] == ["/cursor"]


def test_list_every_widget_once_over_http(client: FlaskClient) -> None:
    created = [
        client.post("/widgets", json={"name": f"w{index}"}).get_json()["id"] for index in range(5)
    ]
    listed: list[int] = []
    url: str | None = "/widgets?limit=2"

    while url is not None:
        body = client.get(url).get_json()
        listed.extend(item["id"] for item in body["items"])
        url = body["next_cursor"] and f"/widgets?limit=2&cursor={body['next_cursor']}"

    assert listed == created


@pytest.mark.parametrize("cursor", ["forged", encode_cursor(2**64 - 1)])
def test_answer_422_for_bad_cursor(client: FlaskClient, cursor: str) -> None:
    body = assert_problem(client.get(f"/widgets?cursor={cursor}"), 422, "validation_failed")

    assert [error["pointer"] for error in body["errors"]] == ["/cursor"]


def test_answer_empty_page_after_the_largest_key(client: FlaskClient) -> None:
    """Any cursor the document allows is accepted, past a 32-bit column's largest id too."""
    client.post("/gadgets", json={"name": "one"})
    body = client.get("/gadgets", query_string={"cursor": "9" * 18}).get_json()
    assert body == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(("count", "limit", "pages"), [(0, 5, 1), (21, 7, 3)])
def test_fetch_every_record_once_as_plain_data(
    db_session: Session, count: int, limit: int, pages: int
) -> None:
    ids = _add_widgets(db_session, count)
    db_session.expire_all()
    expected = [widget.to_dict() for widget in db_session.scalars(sa.select(Widget))]
    seen: list[dict[str, Any]] = []
    cursor = None

    for _ in range(pages):
        page = fetch_record_page(db_session, Widget, key=Widget.id, limit=limit, cursor=cursor)
        assert page.to_dict()["items"] == list(page.items)  # plain data, rendered as it is
        seen.extend(page.items)
        cursor = page.to_dict()["next_cursor"]

    assert cursor is None
    assert [record["id"] for record in seen] == sorted(ids)
    assert seen == sorted(expected, key=lambda record: record["id"])


def test_fetch_only_records_matching_where_with_pending_changes(db_session: Session) -> None:
    ids = _add_widgets(db_session, 3)
    renamed = db_session.get(Widget, ids[1])
    assert renamed is not None
    renamed.name = "renamed"  # not flushed yet

    page = fetch_record_page(
        db_session, Widget, key=Widget.id, limit=5, where=[Widget.name == "renamed"]
    )

    assert [record["id"] for record in page.items] == [ids[1]]
