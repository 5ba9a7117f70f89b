"""A unique-key race: many concurrent creates of one email, exactly one of them stored."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from checks import assert_answers
from conftest import Report
from fault_stack import FaultStack
from load import CLIENT_TIMEOUT, Outcome, new_record, send

RACERS = 16
ROUNDS = 3


def race(url: str, record: dict[str, Any]) -> list[Outcome]:
    """``RACERS`` clients POST ``record`` at the same moment."""
    start = threading.Barrier(RACERS)

    def create(_: int) -> Outcome:
        with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as client:
            client.get("/foss?limit=1")  # connected before the race starts
            start.wait()
            return send(client, "create", "POST", "/foss", record)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(create, range(RACERS)))


def test_store_one_of_concurrent_creates_of_one_email(stack: FaultStack, report: Report) -> None:
    outcomes = []
    for _ in range(ROUNDS):
        record = new_record("create")
        answers = race(stack.url, record)
        outcomes += answers
        assert Counter(o.status for o in answers) == {201: 1, 409: RACERS - 1}
        assert {o.body["code"] for o in answers if o.status == 409} == {"conflict"}
        stored = stack.postgres.execute(
            "foss", "SELECT count(*) FROM foss WHERE email = %s", record["email"]
        )
        assert stored == [(1,)]
    assert report(f"{RACERS} concurrent creates of one email, x{ROUNDS}", outcomes) == []
    assert_answers(outcomes, {201, 409})
