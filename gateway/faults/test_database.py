"""The database under load: stopped (a crash, then a restart) and frozen (SIGSTOP)."""

from __future__ import annotations

import time

from checks import SUCCESS, UNAVAILABLE, assert_answers
from conftest import Report
from fault_stack import FaultStack
from load import Load

ROLES = ("create", "create", "read", "read")
DOWN_SECONDS = 4
FREEZE_SECONDS = 24
# Flusk's bound: a frozen database is a 503 within REQUEST_DEADLINE (20 s) of the request's
# start in the app, never the gateway's 502 (60 s). The client's clock also holds the time
# a request waits for a free thread while every other one waits on the frozen database.
FROZEN_ANSWER_SECONDS = 21


def test_answer_503_while_database_stopped_and_lose_no_write(
    stack: FaultStack, report: Report
) -> None:
    with Load(stack.url, ROLES) as load:
        load.wait_for_answers(20)
        stack.postgres.stop("immediate")
        stopped = time.monotonic()
        time.sleep(DOWN_SECONDS)
        stack.postgres.start()
        restarted = time.monotonic()
        time.sleep(3)
    assert report("database stopped 4 s (crash)", load.outcomes) == []
    assert_answers(load.outcomes, SUCCESS | {UNAVAILABLE})
    during = [o for o in load.outcomes if stopped <= o.started and o.answered <= restarted]
    assert any(o.status == UNAVAILABLE for o in during), "the outage was never seen"
    after = [o for o in load.outcomes if o.started > restarted + 1]
    assert after
    assert all(o.status in SUCCESS for o in after)


def test_answer_503_within_the_deadline_while_database_frozen(
    stack: FaultStack, report: Report
) -> None:
    with Load(stack.url, ROLES) as load:
        load.wait_for_answers(20)
        with stack.postgres.frozen():
            frozen = time.monotonic()
            time.sleep(FREEZE_SECONDS)
        time.sleep(2)
    assert report("database frozen 24 s (SIGSTOP)", load.outcomes) == []
    assert_answers(load.outcomes, SUCCESS | {UNAVAILABLE})
    slowest = max(load.outcomes, key=lambda o: o.seconds)
    assert slowest.seconds <= FROZEN_ANSWER_SECONDS, slowest
    during = [o for o in load.outcomes if frozen <= o.started < frozen + FREEZE_SECONDS - 1]
    assert any(o.status == UNAVAILABLE for o in during), "the freeze was never seen"
