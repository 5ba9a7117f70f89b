"""A gunicorn worker SIGKILLed under load, and SIGTERM to a service under load."""

from __future__ import annotations

import os
import signal
import time

from checks import BAD_GATEWAY, SUCCESS, assert_answers
from conftest import Report
from fault_stack import WORKERS, FaultStack
from load import Load

KILLS = 2


def test_replace_killed_worker_and_lose_no_write(stack: FaultStack, report: Report) -> None:
    roles = ("create", "create", "read", "read")
    killed = []
    with Load(stack.url, roles) as load:
        load.wait_for_answers(20)
        # The first kill hits every worker while requests are in hand (held on a lock):
        # with threaded workers, which worker holds them is not known. The next kills hit
        # one worker, whatever it is doing.
        with stack.foss_writes_blocked():
            assert stack.waiting_inserts(at_least=WORKERS) >= WORKERS
            for worker in stack.workers("foss"):
                killed.append(worker)
                os.kill(worker, signal.SIGKILL)
            time.sleep(1)
        for _ in range(KILLS - 1):
            time.sleep(2)
            killed.append(stack.workers("foss")[0])
            os.kill(killed[-1], signal.SIGKILL)
        stack.wait_for_workers()
        replaced = time.monotonic()
        time.sleep(2)
    assert report("foss's workers SIGKILLed, then one", load.outcomes) == []
    # A killed worker drops the request it holds: the gateway answers it 502, nothing else.
    assert_answers(load.outcomes, SUCCESS | {BAD_GATEWAY})
    dropped = [o for o in load.outcomes if o.status == BAD_GATEWAY]
    assert 1 <= len(dropped) <= KILLS * len(roles), dropped
    workers = stack.workers("foss")
    assert len(workers) == WORKERS
    assert not set(killed) & set(workers)
    after = [o for o in load.outcomes if o.started > replaced]
    assert after
    assert all(o.status in SUCCESS for o in after)


def test_finish_in_flight_requests_on_sigterm(stack: FaultStack, report: Report) -> None:
    process = stack.foss.process
    assert process is not None
    with Load(stack.url, ("create",) * 4) as load:
        load.wait_for_answers(20)
        with stack.foss_writes_blocked():
            in_flight = stack.waiting_inserts(at_least=WORKERS)
            terminated = time.monotonic()
            process.send_signal(signal.SIGTERM)
            time.sleep(1)  # the workers are shutting down with their requests in hand
        exit_status = process.wait(timeout=60)
        stack.foss.start()
        time.sleep(2)
    fault = "SIGTERM to foss, requests in flight"
    assert report(fault, load.outcomes, in_flight=in_flight) == []
    assert exit_status == 0
    # Once foss no longer listens, the gateway answers 502 until it is back.
    assert_answers(load.outcomes, SUCCESS | {BAD_GATEWAY})
    assert in_flight >= WORKERS
    finished = [o for o in load.outcomes if o.started < terminated < o.answered and o.status == 201]
    assert len(finished) >= in_flight, finished
