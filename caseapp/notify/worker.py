"""The ``worker`` loop: a deadline sweep and a delivery round, again and again, until
told to stop (SIGTERM, SIGINT)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

from caseapp.db_setup import refresh_planner_statistics
from caseapp.extensions import db
from caseapp.notify.delivery import deliver_due
from caseapp.services.casework.sweep import run_sweep

# Rounds between refreshes of the planner's statistics (at 10 s a round: an hour).
STATISTICS_EVERY = 360


def run_worker(
    config: Mapping[str, Any],
    *,
    interval: float,
    rounds: int = 0,
    echo: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> int:
    """Run delivery rounds every ``interval`` seconds; return the rounds run. A round
    in progress finishes before the worker stops, so no notice is left half-marked."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    done = 0
    echo(f"worker started: a round every {interval:g} s")
    while not stop.is_set():
        swept = run_sweep()
        db.session.remove()
        report = deliver_due(config)
        db.session.remove()
        done += 1
        if done % STATISTICS_EVERY == 1:
            refresh_planner_statistics()
        if report.claimed or swept.notices or swept.resumed or swept.closed_unrated:
            echo(
                f"round {done}: sweep: {swept}; sent {report.sent}, to retry {report.retried}, dead {report.dead}"
            )
        if rounds and done >= rounds:
            break
        stop.wait(interval)
    echo(f"worker stopped after {done} rounds")
    return done
