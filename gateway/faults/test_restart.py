"""A restart of everything, then every write acknowledged earlier in the run read back."""

from __future__ import annotations

import time

import httpx
import pytest

from checks import SUCCESS, assert_answers
from conftest import Report
from fault_stack import FaultStack
from load import CLIENT_TIMEOUT, Load, send


@pytest.mark.last
def test_read_back_every_acknowledged_write_after_restart(
    stack: FaultStack, report: Report
) -> None:
    # Writes of its own, so that the test means something when run alone.
    with Load(stack.url, ("create", "create-licensed")) as load:
        load.wait_for_answers(20)
    assert report("restart: the writes before it", load.outcomes) == []
    acknowledged = dict(stack.acknowledged)

    stack.stop()  # the gateway first (SIGQUIT), then each service (SIGTERM)
    stack.postgres.stop("immediate")
    time.sleep(1)
    stack.recover()

    with httpx.Client(base_url=stack.url, timeout=CLIENT_TIMEOUT) as client:
        reads = [send(client, "read", "GET", f"/foss/{record_id}") for record_id in acknowledged]
    lost = [
        (record_id, outcome.status, outcome.body)
        for (record_id, sent), outcome in zip(acknowledged.items(), reads, strict=True)
        if outcome.status != 200 or outcome.body["email"] != sent["email"]
    ]
    stored = stack.postgres.execute(
        "foss", "SELECT count(*) FROM foss WHERE id = ANY(%s)", list(acknowledged)
    )
    fault = "restart of everything (database crashed)"
    assert report(fault, reads, lost=lost, read_back=len(reads)) == []
    assert stored == [(len(acknowledged),)]
    assert_answers(reads, SUCCESS)
