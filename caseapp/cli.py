"""``flask --app caseapp …`` commands (``db`` comes from Flask-Migrate)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from caseapp.models.enums import Role
from caseapp.services.access import accounts
from caseapp.services.errors import ValidationFailed

users_cli = AppGroup("users", help="Staff accounts.")
outbox_cli = AppGroup("outbox", help="Notices waiting to be sent.")
sla_cli = AppGroup("sla", help="Deadlines and escalation.")
demo_cli = AppGroup("demo", help="Demo data for the local run.")
api_keys_cli = AppGroup("api-keys", help="Keys for the Open311 API.")
bench_cli = AppGroup("bench", help="Benchmarks at scale.")
stats_cli = AppGroup("stats", help="The public statistics' kept daily totals.")


@users_cli.command("create")
@click.option("--username", prompt=True, help="Sign-in name.")
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role; repeat for several.",
)
@click.option("--department", default=None, help="Department code, e.g. zjj.")
@click.option("--email", default=None, help="For staff notices by email.")
@click.password_option(help="At least 10 characters; asked for when not given.")
def create_user_command(
    username: str,
    display_name: str,
    roles: tuple[str, ...],
    department: str | None,
    email: str | None,
    password: str,
) -> None:
    """Create a staff account."""
    try:
        user = accounts.create_user(
            username, password, display_name, [Role(r) for r in roles], department, email
        )
    except ValidationFailed as exc:
        for field_name, reason in exc.field_errors.items():
            click.echo(f"error: {field_name}: {reason}", err=True)
        raise SystemExit(2) from exc
    click.echo(f"created user {user.username} ({', '.join(sorted(roles))})")


@api_keys_cli.command("create")
@click.option("--name", required=True, help="Who or what uses the key.")
def create_api_key_command(name: str) -> None:
    """Issue an Open311 API key and print it (the only time it is shown)."""
    from caseapp.services.admin import api_keys

    try:
        key, raw = api_keys.create_key(name, actor=None)
    except ValidationFailed as exc:
        for field_name, reason in exc.field_errors.items():
            click.echo(f"error: {field_name}: {reason}", err=True)
        raise SystemExit(2) from exc
    click.echo(f"created API key {key.name!r} ({key.prefix}…); it is shown only this once:")
    click.echo(raw)


@demo_cli.command("load")
def demo_load_command() -> None:
    """Load the demo city (idempotent: what exists is left as it is)."""
    from caseapp.demo.base import load_base
    from caseapp.demo.city import load_city

    def progress(message: str) -> None:
        click.echo(f"  {message}")

    click.echo("loading the demo base …")
    load_base(progress=progress)
    click.echo("loading the demo city (cases and ledgers, dated from today) …")
    if not load_city(progress=progress):
        click.echo("  already loaded; nothing added")
    click.echo("demo data loaded; demo accounts use the password 'demo-password'")


@outbox_cli.command("deliver")
@click.option("--limit", default=500, show_default=True, help="At most this many notices.")
def outbox_deliver_command(limit: int) -> None:
    """Send the notices that are due now, once."""
    from caseapp.notify.delivery import deliver_due

    report = deliver_due(current_app.config, limit=limit, budget=0)
    click.echo(
        f"claimed {report.claimed}, sent {report.sent}, "
        f"to retry {report.retried}, dead {report.dead}"
    )
    for error in report.errors:
        click.echo(f"  failed: {error}", err=True)


@sla_cli.command("sweep")
def sla_sweep_command() -> None:
    """Raise escalation levels, resume and close what the clocks say, notify staff."""
    import time

    from caseapp.services.casework.sweep import run_sweep

    started = time.perf_counter()
    report = run_sweep()
    click.echo(f"{report} in {time.perf_counter() - started:.2f} s")


@click.command("worker")
@click.option("--interval", type=int, default=None, help="Seconds between rounds.")
@click.option("--rounds", type=int, default=0, help="Stop after this many rounds (0: run on).")
def worker_command(interval: int | None, rounds: int) -> None:
    """Sweep deadlines and deliver notices in a loop until SIGTERM or Ctrl-C (any number
    may run at once)."""
    from caseapp.notify.worker import run_worker

    # The log backend's notices go to the console, unless logging is set up already.
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("caseapp.notify").setLevel(logging.INFO)
    run_worker(
        current_app.config,
        interval=interval or current_app.config["WORKER_INTERVAL_SECONDS"],
        rounds=rounds,
        echo=click.echo,
    )


@stats_cli.command("rebuild")
def stats_rebuild_command() -> None:
    """Count every day's public figures again (the worker then keeps them up to date)."""
    import time

    from caseapp.reports.daily_totals import rebuild_daily_totals

    click.echo("counting the public figures of every day …")
    started = time.perf_counter()
    days = rebuild_daily_totals(progress=lambda message: click.echo(f"  {message}"))
    click.echo(f"counted {days:,} days in {time.perf_counter() - started:.1f} s")


@bench_cli.command("seed")
@click.option(
    "--cases", "count", type=click.IntRange(min=1), required=True, help="How many to add."
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Cases per transaction.",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed, the same cases."
)
@click.option("--yes", is_flag=True, help="Do not ask: the database is a scratch one.")
def bench_seed_command(count: int, batch: int, seed: int, yes: bool) -> None:
    """Add synthetic cases in bulk (the demo base first, if there is none)."""
    import time

    from caseapp.bench import seed_cases
    from caseapp.extensions import db

    if not yes:
        where = db.engine.url.render_as_string(hide_password=True)
        click.confirm(f"add {count:,} synthetic cases to {where}?", abort=True)

    def progress(message: str) -> None:
        click.echo(f"  {message}")

    click.echo(f"seeding {count:,} cases in batches of {batch:,} (seed {seed}) …")
    started = time.perf_counter()
    added = seed_cases(count, progress, batch=batch, seed=seed)
    seconds = time.perf_counter() - started
    click.echo(f"added {added:,} cases in {seconds:.1f} s ({added / seconds:,.0f} cases/s)")


@bench_cli.command("run")
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Timings per query; the best and the median are shown.",
)
def bench_run_command(repeats: int) -> None:
    """Time the queue, counts, board, statistics, scorecards and Open311 queries."""
    from caseapp.bench import count_cases, run_benchmarks

    click.echo(f"cases in the database: {count_cases():,}")
    try:
        figures = run_benchmarks(repeats)
    except LookupError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc
    width = max(len(f.name) for f in figures)
    click.echo(f"{'benchmark':<{width}}  {'best ms':>9}  {'median ms':>9}  {'rows':>7}")
    for f in figures:
        click.echo(f"{f.name:<{width}}  {f.best_ms:>9.1f}  {f.median_ms:>9.1f}  {f.rows:>7,}")


@bench_cli.command("worker")
@click.option(
    "--notices",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="The backlog of notices to drain.",
)
@click.option(
    "--ahead",
    type=click.IntRange(min=0),
    default=24,
    show_default=True,
    help="A second sweep this many hours later (the escalations of that time).",
)
@click.option("--yes", is_flag=True, help="Do not ask: the database is a scratch one.")
def bench_worker_command(notices: int, ahead: int, yes: bool) -> None:
    """Time the deadline sweep over the clocks there are, and draining a backlog of
    notices; print clocks/s, notices/s and the peak memory."""
    from datetime import timedelta

    from caseapp.bench.workers import time_delivery, time_sweep
    from caseapp.extensions import db
    from caseapp.models.types import utcnow

    if not yes:
        where = db.engine.url.render_as_string(hide_password=True)
        click.confirm(f"sweep and add {notices:,} notices to {where}?", abort=True)
    now = utcnow()
    for at in dict.fromkeys([now, now + timedelta(hours=ahead)]):
        f = time_sweep(at)
        click.echo(
            f"sweep at +{(at - now).total_seconds() / 3600:.0f} h: {f.running_clocks:,} running "
            f"clocks, {f.due_clocks:,} due, {f.seconds:.2f} s ({f.clocks_per_second:,.0f} "
            f"clocks/s), peak RSS {f.peak_rss_mb:.0f} MB; {f.report}"
        )
    d = time_delivery(current_app.config, notices)
    click.echo(
        f"delivery: {d.sent:,} of {d.queued:,} queued notices sent in {d.seconds:.2f} s "
        f"({d.notices_per_second:,.0f} notices/s), peak RSS {d.peak_rss_mb:.0f} MB"
    )


def server_options(command: Callable[..., None]) -> Callable[..., None]:
    """The production server's size, for the commands that start one (http, load)."""
    workers = click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=4,
        show_default=True,
        help="gunicorn's worker processes.",
    )
    threads = click.option(
        "--threads",
        type=click.IntRange(min=1),
        default=4,
        show_default=True,
        help="Threads per worker.",
    )
    return workers(threads(command))


@bench_cli.command("http")
@click.option(
    "--requests",
    "per_page",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Timed requests per page.",
)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Untimed requests per page first.",
)
@server_options
@click.option(
    "--filings",
    type=click.IntRange(min=0),
    default=2000,
    show_default=True,
    help="Public filings to send (0: none).",
)
@click.option(
    "--clients",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Concurrent filing clients.",
)
@click.option("--yes", is_flag=True, help="Do not ask: the database is a scratch one.")
def bench_http_command(
    per_page: int, warmup: int, workers: int, threads: int, filings: int, clients: int, yes: bool
) -> None:
    """Start the production server on this database and time the pages over HTTP
    (p50/p95 and the SQL floor), then public filings from concurrent clients."""
    from caseapp import create_app
    from caseapp.bench import http
    from caseapp.bench.timings import count_cases
    from caseapp.extensions import db

    if filings and not yes:
        where = db.engine.url.render_as_string(hide_password=True)
        click.confirm(f"file {filings:,} cases into {where}?", abort=True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"cases in the database: {count_cases():,}")
    db.session.remove()  # a command's transaction would hold SQLite's write lock
    with http.production_server(app, workers, threads, click.echo) as url:
        here = create_app()  # the in-process app the SQL floor is caught from
        figures = http.time_pages(here, url, http.pages_to_time(url), per_page, warmup,
                                  lambda line: click.echo(f"  {line}"))  # fmt: skip
        width = max(http.display_width(f.page.name) for f in figures)
        click.echo(
            f"{http.pad('page', width)}  {'requests':>8}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}  "
            f"{'floor p95':>9}  {'ratio':>5}  {'SQL':>4}  errors"
        )
        for f in figures:
            click.echo(
                f"{http.pad(f.page.name, width)}  {len(f.times_ms):>8}  {f.p50_ms:>7.1f}  "
                f"{f.p95_ms:>7.1f}  {max(f.times_ms):>7.1f}  {f.floor_p95_ms:>9.1f}  "
                f"{f.ratio:>5.1f}  {f.statements:>4}  {f.errors}"
            )
        if filings:
            click.echo(f"filing {filings:,} cases from {clients} clients …")
            filed = http.time_filings(url, filings, clients)
            click.echo(
                f"filings: {len(filed.acknowledged):,} acknowledged in {filed.seconds:.1f} s "
                f"({filed.per_second:.1f} per second), form + POST p50 "
                f"{http.percentile(filed.times_ms, 50):.0f} ms, p95 "
                f"{http.percentile(filed.times_ms, 95):.0f} ms; {len(filed.errors)} errors; "
                f"stored once {filed.stored_once:,}, missing {filed.missing}, "
                f"duplicated {filed.duplicated}"
            )
            for error in filed.errors[:5]:
                click.echo(f"  error: {error}")
            if filed.errors or filed.missing or filed.duplicated:
                raise SystemExit(1)
    if any(f.errors for f in figures):
        raise SystemExit(1)


@bench_cli.command("load")
@click.option(
    "--users",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Simulated users at once.",
)
@click.option(
    "--seconds",
    type=click.IntRange(min=1),
    default=120,
    show_default=True,
    help="How long the load lasts (spawning included).",
)
@click.option(
    "--spawn-rate",
    type=click.FloatRange(min=0.1),
    default=20.0,
    show_default=True,
    help="Users started per second until all run.",
)
@server_options
@click.option("--yes", is_flag=True, help="Do not ask: the database is a scratch one.")
def bench_load_command(
    users: int, seconds: int, spawn_rate: float, workers: int, threads: int, yes: bool
) -> None:
    """Start the production server on this database and load it with Locust: citizens,
    Open311 clients, staff and supervisors at once; p50/p95 per page, errors, and every
    acknowledged filing looked up. Fails on any 5xx, request without an answer, or
    filing lost or stored twice."""
    from caseapp.bench import load
    from caseapp.bench.timings import count_cases
    from caseapp.extensions import db

    if not yes:
        where = db.engine.url.render_as_string(hide_password=True)
        click.confirm(f"load {where} with {users} users filing cases for {seconds} s?", abort=True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"cases in the database: {count_cases():,}")
    try:
        run, check = load.run_load(app, users, seconds, spawn_rate, workers, threads, click.echo)
    except RuntimeError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc
    for line in load.report(run, check):
        click.echo(line)
    reasons = load.failures(run, check)
    for reason in reasons:
        click.echo(f"FAILED: {reason}", err=True)
    if reasons:
        raise SystemExit(1)


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(api_keys_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(bench_cli)
    app.cli.add_command(stats_cli)
    app.cli.add_command(worker_command)
