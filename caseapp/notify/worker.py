"""The ``worker`` loop: a deadline sweep every interval and, in between, deliveries
every second that drain the outbox, until told to stop (SIGTERM, SIGINT)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from caseapp.db_setup import refresh_planner_statistics
from caseapp.extensions import db
from caseapp.notify.delivery import deliver_due
from caseapp.reports.daily_totals import refresh_daily_totals
from caseapp.services.casework.sweep import run_sweep

# Rounds between refreshes of the planner's statistics (at 10 s a round: an hour).
STATISTICS_EVERY = 360
# Seconds between deliveries: a notice waits about this long after it is written.
DELIVER_EVERY = 1.0


def run_worker(
    config: Mapping[str, Any],
    *,
    interval: float,
    rounds: int = 0,
    echo: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    deliver_every: float = DELIVER_EVERY,
) -> int:
    """Sweep every ``interval`` seconds and deliver every ``deliver_every`` seconds in
    between; return the rounds (sweeps) run. A delivery drains what is due, for at most
    ``interval`` seconds at a time so that the sweep keeps its turn. A round in progress
    finishes before the worker stops, so no notice is left half-marked."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    done = 0
    next_sweep = time.monotonic()
    echo(f"worker started: a sweep every {interval:g} s, deliveries every {deliver_every:g} s")
    while not stop.is_set():
        swept = None
        if time.monotonic() >= next_sweep:
            swept = run_sweep()
            db.session.remove()
            next_sweep = time.monotonic() + interval
            done += 1
            if done % STATISTICS_EVERY == 1:
                refresh_planner_statistics()
            # The public statistics' kept daily totals (issue 19); never raises.
            refresh_daily_totals()
            db.session.remove()
        report = deliver_due(config, budget=interval)
        db.session.remove()
        if report.claimed or (swept and (swept.notices or swept.resumed or swept.closed_unrated)):
            echo(
                (f"round {done}: sweep: {swept}; " if swept else "delivery: ")
                + f"sent {report.sent}, to retry {report.retried}, dead {report.dead}"
            )
        if rounds and done >= rounds:
            break
        if report.drained:  # else the delivery ran out of time and goes on at once
            stop.wait(max(min(deliver_every, next_sweep - time.monotonic()), 0))
    echo(f"worker stopped after {done} rounds")
    return done
