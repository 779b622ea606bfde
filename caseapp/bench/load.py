"""The load test (issue 20): many users at once against the production server.

``run_load`` starts gunicorn on this app's database (``http.production_server``: the
production settings, the rate limiter off), makes sure the demo staff and an Open311 key
exist, and runs Locust headless as a subprocess with ``caseapp/bench/locustfile.py``
(Locust brings gevent, whose monkey-patching must stay out of this Flask process):
citizens filing through the public form and tracking their case, Open311 clients
reading and filing, staff browsing their queues and dispatching, signing for and
noting cases, supervisors reading the escalation board, scorecards and ledgers.

Locust writes what it measured (every request by route, status and time; every filing
acknowledged or whose answer was lost, by serial) to a JSON file; ``read_results`` turns
it into figures per page, and ``check_filings`` looks every filing up in the database
once the server has stopped: each acknowledged number stored once, and no case stored
that was neither acknowledged nor filed by a request whose answer was lost.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from caseapp.bench import http
from caseapp.demo.base import DEMO_ACCOUNTS, DEMO_PASSWORD
from caseapp.extensions import db
from caseapp.models import Case
from caseapp.models.enums import Role

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# The serial the locustfile writes into every filing's description.
SERIAL = re.compile(r"LT-[0-9a-f]{12}")
# Which demo accounts play which part of the locustfile (its ``Staff.role``).
PARTS = {
    Role.INTAKE: "intake",
    Role.LEAD: "lead",
    Role.HANDLER: "handler",
    Role.SUPERVISOR: "supervisor",
    Role.LEADER: "supervisor",
}


@dataclass(frozen=True)
class Filing:
    """A filing acknowledged with its case number."""

    via: str  # "web" or "open311"
    serial: str
    number: str


@dataclass(frozen=True)
class LostAnswer:
    """A filing sent whose answer never came (no answer, a 5xx, a user stopped mid-way):
    it may or may not have been stored."""

    via: str
    serial: str
    why: str


@dataclass
class PageLoad:
    """The requests of one page (a route and method) and their answers."""

    name: str
    times_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)  # 0: no answer

    @property
    def count(self) -> int:
        return len(self.times_ms)

    @property
    def p50_ms(self) -> float:
        return http.percentile(self.times_ms, 50)

    @property
    def p95_ms(self) -> float:
        return http.percentile(self.times_ms, 95)

    @property
    def max_ms(self) -> float:
        return max(self.times_ms, default=float("nan"))

    @property
    def client_errors(self) -> dict[int, int]:
        """4xx answers by code: refusals, conflicts; normal under contention."""
        return {code: n for code, n in sorted(self.statuses.items()) if 400 <= code < 500}

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)

    @property
    def unanswered(self) -> int:
        return self.statuses[0]


@dataclass
class LoadRun:
    """What Locust measured."""

    users: dict[str, int]
    seconds: float
    pages: list[PageLoad]
    filings: list[Filing]
    lost: list[LostAnswer]
    connection_errors: list[str]
    task_errors: list[str]

    @property
    def user_count(self) -> int:
        return sum(self.users.values())

    @property
    def requests(self) -> int:
        return sum(p.count for p in self.pages)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        return sum(p.server_errors for p in self.pages)

    @property
    def unanswered(self) -> int:
        return sum(p.unanswered for p in self.pages)

    def acknowledged(self, via: str) -> int:
        return sum(1 for f in self.filings if f.via == via)


@dataclass
class FilingCheck:
    """The filings looked up in the database after the run."""

    acknowledged: int = 0
    stored_once: int = 0
    missing: int = 0  # acknowledged numbers not stored (or, impossibly, twice)
    doubled: list[str] = field(default_factory=list)  # serials stored more than once
    wrong: list[str] = field(default_factory=list)  # numbers stored for another filing
    new_cases: int = 0  # cases stored since the run began
    lost: int = 0  # filings whose answer was lost
    lost_stored: int = 0  # … and which were stored all the same
    unexplained: list[str] = field(default_factory=list)  # new cases nobody filed

    @property
    def ok(self) -> bool:
        return not (self.missing or self.doubled or self.wrong or self.unexplained)


def staff_parts() -> dict[str, list[str]]:
    """The demo accounts by the part they play in the locustfile."""
    parts: dict[str, list[str]] = defaultdict(list)
    for username, _name, roles, _department in DEMO_ACCOUNTS:
        for role in roles:
            if role in PARTS:
                parts[PARTS[role]].append(username)
    return dict(parts)


def prepare(log: Callable[[str], None]) -> tuple[int, str]:
    """The demo base (departments, categories, the demo staff) where it is missing, and
    a new Open311 key for this run; returns the key's id and the key."""
    from caseapp.demo.base import load_base
    from caseapp.services.admin import api_keys

    made = load_base()
    if any(made.values()):
        log(f"demo base added: {made}")
    key, raw = api_keys.create_key(f"bench load {time.strftime('%Y-%m-%d %H:%M:%S')}", None)
    db.session.commit()
    return key.id, raw


def last_case_id() -> int:
    """The newest case's id (0 when there is none): the run's cases come after it."""
    found = db.session.scalar(sa.select(sa.func.max(Case.id)))
    db.session.rollback()
    return found or 0


def _locust() -> Path:
    return Path(sys.executable).parent / "locust"


def run_locust(
    url: str, users: int, seconds: int, spawn_rate: float, api_key: str, scratch: Path,
    log: Callable[[str], None],
) -> Path:  # fmt: skip
    """Locust headless against ``url``; returns the results file it wrote."""
    results = scratch / "results.json"
    locust_log = scratch / "locust.log"
    env = {
        **os.environ,
        "CASEAPP_LOAD_RESULTS": str(results),
        "CASEAPP_LOAD_API_KEY": api_key,
        "CASEAPP_LOAD_STAFF": json.dumps(staff_parts()),
        "CASEAPP_LOAD_PASSWORD": DEMO_PASSWORD,
    }
    command = [
        str(_locust()),
        "-f", str(LOCUSTFILE),
        "--headless",
        "--host", url,
        "--users", str(users),
        "--spawn-rate", str(spawn_rate),
        "--run-time", f"{seconds}s",
        # Users finish the task they are in (a filing's answer is then known).
        "--stop-timeout", "30",
        "--only-summary",
        "--loglevel", "WARNING",
        # Failures are judged here, from the results, not by Locust's exit status.
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    log(f"locust: {users} users, {spawn_rate:g} a second, {seconds} s (log: {locust_log})")
    with open(locust_log, "wb") as out:
        finished = subprocess.run(  # noqa: S603 (our own command line)
            command, env=env, cwd=http.ROOT, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if finished.returncode != 0 or not results.exists():
        raise RuntimeError(f"locust stopped with status {finished.returncode}: see {locust_log}")
    return results


def read_results(data: dict[str, Any]) -> LoadRun:
    """The figures of a results file's contents (``json.load``-ed)."""
    pages: dict[str, PageLoad] = {}
    for name, status, spent in data["requests"]:
        page = pages.setdefault(name, PageLoad(name))
        page.times_ms.append(float(spent))
        page.statuses[int(status)] += 1
    return LoadRun(
        users={str(k): int(v) for k, v in data.get("users", {}).items()},
        seconds=max(0.0, float(data["stopped"]) - float(data["started"])),
        pages=sorted(pages.values(), key=lambda p: p.name),
        filings=[Filing(*row) for row in data["filings"]],
        lost=[LostAnswer(*row) for row in data["lost"]],
        connection_errors=list(data.get("connection_errors", [])),
        task_errors=list(data.get("task_errors", [])),
    )


def check_filings(
    after_id: int, filings: Iterable[Filing], lost: Iterable[LostAnswer]
) -> FilingCheck:
    """Look every filing up in the database: each acknowledged number stored once (bench
    http's own check) and holding its filing's serial; among the cases stored after case
    ``after_id``, no filing twice, and every case not acknowledged one whose answer was
    lost."""
    filings, lost = list(filings), list(lost)
    numbers = http.FilingFigure(clients=0, acknowledged=[f.number for f in filings])
    http._check_stored(numbers)
    rows = db.session.execute(
        sa.select(Case.number, Case.description).where(Case.id > after_id).order_by(Case.id)
    ).all()
    db.session.rollback()
    serial_of: dict[str, str | None] = {}
    by_serial: Counter[str] = Counter()
    for number, description in rows:
        found = SERIAL.search(description or "")
        serial_of[number] = found.group(0) if found else None
        if found:
            by_serial[found.group(0)] += 1
    check = FilingCheck(
        acknowledged=len(filings),
        missing=numbers.missing + numbers.duplicated,
        new_cases=len(rows),
        lost=len(lost),
    )
    check.doubled = sorted(serial for serial, n in by_serial.items() if n > 1)
    check.wrong = [
        f.number for f in filings if f.number in serial_of and serial_of[f.number] != f.serial
    ]
    # Stored once by number, and the filing it holds stored nowhere else.
    check.stored_once = numbers.stored_once - sum(
        1 for f in filings if f.number in check.wrong or by_serial[f.serial] > 1
    )
    lost_serials = {a.serial for a in lost}
    check.lost_stored = sum(1 for a in lost_serials if by_serial[a] > 0)
    # A second case of an acknowledged filing is counted as doubled above, not here.
    sent = lost_serials | {f.serial for f in filings}
    acknowledged = {f.number for f in filings}
    check.unexplained = [
        number for number, _ in rows if number not in acknowledged and serial_of[number] not in sent
    ]
    return check


def failures(run: LoadRun, check: FilingCheck) -> list[str]:
    """Why the run failed; empty when it passed."""
    reasons = []
    if run.server_errors:
        reasons.append(f"{run.server_errors} answers were 5xx")
    if run.unanswered:
        reasons.append(f"{run.unanswered} requests had no answer (connection errors)")
    if run.task_errors:
        reasons.append(f"{len(run.task_errors)} user tasks failed in the load client")
    if not run.filings:
        reasons.append("no filing was acknowledged")
    if check.missing:
        reasons.append(f"{check.missing} acknowledged numbers are not stored")
    if check.wrong:
        reasons.append(f"{len(check.wrong)} acknowledged numbers hold another filing")
    if check.doubled:
        reasons.append(f"{len(check.doubled)} filings are stored more than once")
    if check.unexplained:
        reasons.append(f"{len(check.unexplained)} new cases were neither acknowledged nor lost")
    return reasons


def _codes(counts: dict[int, int]) -> str:
    return " ".join(f"{code}×{n}" for code, n in counts.items()) or "-"


def report(run: LoadRun, check: FilingCheck) -> list[str]:
    """The figures as printed lines: the run, a table per page, errors, filings."""
    users = ", ".join(f"{name} {n}" for name, n in sorted(run.users.items()))
    everything = PageLoad("all pages")
    for page in run.pages:
        everything.times_ms.extend(page.times_ms)
        everything.statuses.update(page.statuses)
    width = max(http.display_width(p.name) for p in [everything, *run.pages])
    lines = [
        f"users {run.user_count} ({users}), seconds {run.seconds:.1f}, "
        f"requests {run.requests:,}, {run.per_second:.1f} requests/s",
        f"{http.pad('page', width)}  {'requests':>8}  {'p50 ms':>7}  {'p95 ms':>7}  "
        f"{'max ms':>7}  {'5xx':>4}  {'no answer':>9}  4xx",
    ]
    for p in [*run.pages, everything]:
        lines.append(
            f"{http.pad(p.name, width)}  {p.count:>8,}  {p.p50_ms:>7.1f}  {p.p95_ms:>7.1f}  "
            f"{p.max_ms:>7.1f}  {p.server_errors:>4}  {p.unanswered:>9}  {_codes(p.client_errors)}"
        )
    lines += [
        f"errors: 5xx {run.server_errors}, no answer {run.unanswered}, "
        f"load client task errors {len(run.task_errors)}",
        *(f"  no answer: {e}" for e in run.connection_errors[:5]),
        *(f"  task error: {e}" for e in run.task_errors[:5]),
        f"filings acknowledged {check.acknowledged:,} (web {run.acknowledged('web'):,}, "
        f"Open311 {run.acknowledged('open311'):,}): stored exactly once {check.stored_once:,}, "
        f"missing {check.missing}, stored twice {len(check.doubled)}, "
        f"holding another filing {len(check.wrong)}",
        f"answers lost {check.lost} (stored all the same {check.lost_stored}); cases stored "
        f"during the run {check.new_cases:,}, neither acknowledged nor lost "
        f"{len(check.unexplained)}",
        *(f"  lost: {a.via} {a.serial}: {a.why}" for a in run.lost[:5]),
    ]
    return lines


def run_load(
    app: Flask, users: int, seconds: int, spawn_rate: float, workers: int, threads: int,
    log: Callable[[str], None],
) -> tuple[LoadRun, FilingCheck]:  # fmt: skip
    """The whole test: prepare, serve, load, then look the filings up."""
    if not _locust().exists():
        raise RuntimeError("Locust is not installed: it comes with the test extras (.[test])")
    from caseapp.services.admin import api_keys

    key_id, api_key = prepare(log)
    after_id = last_case_id()
    db.session.remove()  # a command's transaction would hold SQLite's write lock
    scratch = Path(tempfile.mkdtemp(prefix="caseapp-bench-load-"))
    try:
        with http.production_server(app, workers, threads, log) as url:
            results = run_locust(url, users, seconds, spawn_rate, api_key, scratch, log)
    finally:
        api_keys.revoke_key(key_id, None)  # the run's key opens nothing after it
        db.session.commit()
    # The server has stopped: every request it took is answered and committed.
    run = read_results(json.loads(results.read_text(encoding="utf-8")))
    return run, check_filings(after_id, run.filings, run.lost)
