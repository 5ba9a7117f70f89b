"""The callee frozen and killed: foss keeps serving creates, with and without a license."""

from __future__ import annotations

import signal
import time

from checks import UNAVAILABLE, assert_answers, role_latency
from conftest import Report
from fault_stack import SERVICE_BREAKER_RESET, SERVICE_READ_TIMEOUT, FaultStack
from load import Load, Outcome, percentile
from processes import signal_tree

ROLES = ("create", "create", "create-licensed", "create-licensed")
FAULT_SECONDS = 12
# Flusk's bounds: a create that never calls licenses keeps its p99 under 1 s; one that
# does gets its 503 within the service read timeout (plus a second for the two hops).
UNLICENSED_P99_SECONDS = 1.0
LICENSED_ANSWER_SECONDS = SERVICE_READ_TIMEOUT + 1


def licensed_during(load: Load, start: float, end: float) -> list[Outcome]:
    return [o for o in load.outcomes if o.role == "create-licensed" and start <= o.started < end]


def check_creates(report: Report, fault: str, outcomes: list[Outcome]) -> None:
    """No write lost; creates without a license all 201, those with one 201 or 503."""
    notes = role_latency(outcomes, "create") | role_latency(outcomes, "create-licensed")
    assert report(fault, outcomes, **notes) == []
    assert_answers(outcomes, {201, UNAVAILABLE})
    unlicensed = [o for o in outcomes if o.role == "create"]
    assert all(o.status == 201 for o in unlicensed)


def test_keep_creating_while_licenses_frozen(stack: FaultStack, report: Report) -> None:
    master = stack.master_pid("licenses")
    with Load(stack.url, ROLES) as load:
        load.wait_for_answers(20)
        signal_tree(master, signal.SIGSTOP)
        frozen = time.monotonic()
        time.sleep(FAULT_SECONDS)
        signal_tree(master, signal.SIGCONT)
        time.sleep(2)
    check_creates(report, "licenses frozen 12 s (SIGSTOP)", load.outcomes)

    unlicensed = [o.seconds for o in load.outcomes if o.role == "create"]
    assert percentile(unlicensed, 0.99) < UNLICENSED_P99_SECONDS
    licensed = licensed_during(load, frozen, frozen + FAULT_SECONDS - LICENSED_ANSWER_SECONDS)
    assert licensed
    assert all(o.status == UNAVAILABLE for o in licensed), licensed
    slowest = max(licensed, key=lambda o: o.seconds)
    assert slowest.seconds <= LICENSED_ANSWER_SECONDS, slowest


def test_keep_creating_while_licenses_killed(stack: FaultStack, report: Report) -> None:
    with Load(stack.url, ROLES) as load:
        load.wait_for_answers(20)
        stack.kill("licenses")
        killed = time.monotonic()
        time.sleep(FAULT_SECONDS)
        restarting = time.monotonic()
        stack.licenses.start()
        serving = time.monotonic()
        time.sleep(SERVICE_BREAKER_RESET + 2)
    check_creates(report, "licenses killed 12 s (SIGKILL)", load.outcomes)

    licensed = licensed_during(load, killed + 1, restarting)
    assert licensed
    assert all(o.status == UNAVAILABLE for o in licensed), licensed
    # Once licenses is back, foss's breaker lets calls through again within its reset time.
    after = licensed_during(load, serving + SERVICE_BREAKER_RESET + 0.5, float("inf"))
    assert after
    assert all(o.status == 201 for o in after), after
