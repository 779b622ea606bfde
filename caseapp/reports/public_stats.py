"""Figures for the public statistics page (DESIGN §7).

Only counts, only over ``public_cases()`` (never petitions or reports), and nothing
that names or locates a person. The figures come from two aggregate queries; no case
is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import (
    Case,
    Category,
    DailyTotalsState,
    Department,
    PublicDailyFiling,
    PublicStatusCount,
    ScorecardDaily,
)
from caseapp.models.bilingual import in_language
from caseapp.models.enums import OPEN_STATUSES, CaseStatus
from caseapp.models.types import utcnow
from caseapp.reports import daily_totals, scorecards
from caseapp.workflow.deadlines import DeadlineMath
from caseapp.workflow.visibility import public_cases, publicly_counted

MONTHS_SHOWN = 12
SCORECARD_DAYS = 365


@dataclass(frozen=True)
class CategoryStatusCount:
    category_id: int
    category_name: str
    status: CaseStatus
    count: int


@dataclass(frozen=True)
class CategoryCount:
    name: str
    count: int


@dataclass(frozen=True)
class StatusCount:
    status: CaseStatus
    count: int


@dataclass(frozen=True)
class MonthCount:
    month: date  # the first day of the month in the city's zone
    count: int


@dataclass(frozen=True)
class PublicStatistics:
    as_of: datetime
    filed: int
    open: int
    closed: int
    by_category: list[CategoryCount]
    by_status: list[StatusCount]  # every status, in lifecycle order, zeros included
    by_month: list[MonthCount]  # the last MONTHS_SHOWN months, oldest first


def public_statistics(lang: str, zone: tzinfo, now: datetime | None = None) -> PublicStatistics:
    """Counts by category, status and month of the cases the public may see, with
    categories named in ``lang`` and months in ``zone``: two aggregate queries."""
    now = now or utcnow()
    return _statistics(now, category_status_counts(lang), counts_by_month(zone, now))


def _statistics(
    as_of: datetime, cells: list[CategoryStatusCount], by_month: list[MonthCount]
) -> PublicStatistics:
    """The page's figures from the (category, status) counts and the months."""
    by_status = _by_status(cells)
    return PublicStatistics(
        as_of=as_of,
        filed=sum(row.count for row in by_status),
        open=sum(row.count for row in by_status if row.status in OPEN_STATUSES),
        closed=sum(row.count for row in by_status if row.status is CaseStatus.CLOSED),
        by_category=_by_category(cells),
        by_status=by_status,
        by_month=by_month,
    )


def category_status_counts(lang: str) -> list[CategoryStatusCount]:
    """Public cases counted per (category, status), categories named in ``lang``.

    One grouping serves both the category and the status figures, so the cases are
    read once; an index on (category_id, status, kind) lets the database count from
    the index alone.
    """
    cells = daily_totals.status_cells().subquery()
    name = in_language(lang, Category.name_zh, Category.name_en)
    query = sa.select(Category.id, name, cells.c.status, cells.c.n).join(
        cells, cells.c.category_id == Category.id
    )
    return [CategoryStatusCount(*row) for row in db.session.execute(query).tuples()]


def _by_status(cells: list[CategoryStatusCount]) -> list[StatusCount]:
    """Every status, in the order of the lifecycle, zeros included."""
    totals = dict.fromkeys(CaseStatus, 0)
    for cell in cells:
        totals[cell.status] += cell.count
    return [StatusCount(status, count) for status, count in totals.items()]


def _by_category(cells: list[CategoryStatusCount]) -> list[CategoryCount]:
    """Categories with at least one public case (retired ones too), largest first."""
    totals: dict[int, CategoryCount] = {}
    for cell in cells:
        before = totals.get(cell.category_id, CategoryCount(cell.category_name, 0))
        totals[cell.category_id] = CategoryCount(cell.category_name, before.count + cell.count)
    return sorted(totals.values(), key=lambda row: (-row.count, row.name))


def month_starts(zone: tzinfo, now: datetime, months: int = MONTHS_SHOWN) -> list[datetime]:
    """The first moments of the last ``months`` months in ``zone`` (the current one
    last), followed by that of the next month: ``months + 1`` aware datetimes."""
    local = now.astimezone(zone)
    first = local.year * 12 + local.month - 1 - (months - 1)
    return [
        datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)
        for index in range(first, first + months + 1)
    ]


def counts_by_month(zone: tzinfo, now: datetime, months: int = MONTHS_SHOWN) -> list[MonthCount]:
    """Public cases received in each of the last ``months`` months of the city's
    calendar, oldest first, months with none included.

    The month boundaries are computed here, in the city's zone, and the database only
    compares the stored UTC times with them. That reads the same on SQLite and
    PostgreSQL, stays right in a zone with summer time (a fixed offset would not), and
    uses the index on ``received_at`` for the range (one on (received_at, kind) would
    answer it from the index alone).
    """
    starts = month_starts(zone, now, months)
    month_index = sa.case(
        *((Case.received_at < starts[i + 1], sa.literal(i)) for i in range(months))
    ).label("month_index")
    received = (
        public_cases()
        .with_only_columns(month_index)
        .where(Case.received_at >= starts[0], Case.received_at < starts[-1])
        .subquery()
    )
    query = sa.select(received.c.month_index, sa.func.count()).group_by(received.c.month_index)
    found: dict[int, int] = dict(db.session.execute(query).tuples().all())
    return [MonthCount(starts[i].date(), found.get(i, 0)) for i in range(months)]


def department_scorecards(
    math: DeadlineMath, now: datetime | None = None
) -> scorecards.ScorecardReport:
    """The departments' scorecards over the last year, counting only the cases the
    public may see; departments with a rate to show."""
    now = now or utcnow()
    today = math.local_date(now)
    period = scorecards.custom_period(today - timedelta(days=SCORECARD_DAYS - 1), today)
    found = scorecards.report(period, now, math, scope=publicly_counted())
    shown = [
        card
        for card in found.departments
        if card.response.whole or card.resolution.whole or card.on_time.whole
    ]
    return scorecards.ScorecardReport(
        found.period, found.weights, found.total, shown, found.outcomes
    )


@dataclass(frozen=True)
class PublicScorecardRow:
    """One department's rates as the public page shows them (percent to one place)."""

    name_zh: str
    name_en: str
    response: float | None
    resolution: float | None
    satisfaction: float | None
    composite: float | None

    def name(self, lang: str) -> str:
        return in_language(lang, self.name_zh, self.name_en)


@dataclass(frozen=True)
class PublicScorecards:
    """The public page's department rates over ``first`` … ``last``: plain values, no
    database rows, so they can be kept between requests."""

    first: date
    last: date
    departments: tuple[PublicScorecardRow, ...]


def public_scorecards(math: DeadlineMath, now: datetime | None = None) -> PublicScorecards:
    """``department_scorecards`` reduced to what the public page shows."""
    found = department_scorecards(math, now)
    return PublicScorecards(
        first=found.period.first,
        last=found.period.last,
        departments=tuple(
            PublicScorecardRow(
                name_zh=card.department.name_zh if card.department else "",
                name_en=card.department.name_en if card.department else "",
                response=card.response.percent,
                resolution=card.resolution.percent,
                satisfaction=card.satisfaction.percent,
                composite=card.composite,
            )
            for card in found.departments
        ),
    )


# --- the page's figures, from the kept daily totals (issue 19) ------------------------------


@dataclass(frozen=True)
class KeptFigures:
    """What the public page shows, read from the kept totals (caseapp.reports.daily_totals)."""

    statistics: PublicStatistics
    scorecards: PublicScorecards


def kept_figures(lang: str, math: DeadlineMath) -> KeptFigures | None:
    """The public figures as of the worker's last count, from the kept rows only (a few
    hundred at most; no case or event is read); None when they were never counted."""
    state = db.session.get(DailyTotalsState, daily_totals.STATE_ID)
    if state is None:
        return None
    return KeptFigures(
        _kept_statistics(lang, math, state.computed_at),
        _kept_scorecards(math, state.computed_at),
    )


def _kept_statistics(lang: str, math: DeadlineMath, as_of: datetime) -> PublicStatistics:
    name = in_language(lang, Category.name_zh, Category.name_en)
    cells = [
        CategoryStatusCount(*row)
        for row in db.session.execute(
            sa.select(Category.id, name, PublicStatusCount.status, PublicStatusCount.cases).join(
                PublicStatusCount, PublicStatusCount.category_id == Category.id
            )
        ).tuples()
    ]
    starts = month_starts(math.tz, as_of)
    per_day = db.session.execute(
        sa.select(PublicDailyFiling.day, PublicDailyFiling.received).where(
            PublicDailyFiling.day >= starts[0].date(), PublicDailyFiling.day < starts[-1].date()
        )
    ).tuples()
    months: dict[date, int] = {}
    for day, received in per_day:
        month = day.replace(day=1)
        months[month] = months.get(month, 0) + received
    by_month = [MonthCount(s.date(), months.get(s.date(), 0)) for s in starts[:-1]]
    return _statistics(as_of, cells, by_month)


def _kept_scorecards(math: DeadlineMath, as_of: datetime) -> PublicScorecards:
    """The departments' rates over the last SCORECARD_DAYS days up to ``as_of``, from
    the kept sums: the same figures ``public_scorecards`` computes from the events."""
    today = math.local_date(as_of)
    first = today - timedelta(days=SCORECARD_DAYS - 1)
    kept = ScorecardDaily
    sums = (
        sa.select(
            kept.department_id,
            *(
                sa.func.sum(getattr(kept, column)).label(column)
                for column in (
                    "responses",
                    "responses_on_time",
                    "rated",
                    "solved",
                    "satisfied",
                    "basically_satisfied",
                    "answered",
                )
            ),
        )
        .where(kept.day >= first, kept.day <= today)
        .group_by(kept.department_id)
        .subquery()
    )
    chosen = scorecards.weights()
    rows: list[tuple[str, PublicScorecardRow]] = []
    query = sa.select(Department.code, Department.name_zh, Department.name_en, sums).join(
        sums, sums.c.department_id == Department.id
    )
    for row in db.session.execute(query):
        if not (row.responses or row.rated or row.answered):
            continue  # no rate to show (as ``department_scorecards`` leaves it out)
        response = scorecards.Ratio(row.responses_on_time, row.responses)
        resolution = scorecards.Ratio(row.solved, row.rated)
        satisfaction = scorecards.Ratio(row.satisfied + row.basically_satisfied, row.rated)
        composite = scorecards.composite_score(
            response.value, resolution.value, satisfaction.value, chosen
        )
        rows.append(
            (
                row.code,
                PublicScorecardRow(
                    name_zh=row.name_zh,
                    name_en=row.name_en,
                    response=response.percent,
                    resolution=resolution.percent,
                    satisfaction=satisfaction.percent,
                    composite=composite,
                ),
            )
        )
    rows.sort(key=lambda r: (r[1].composite is None, -(r[1].composite or 0), r[0]))
    return PublicScorecards(first, today, tuple(card for _code, card in rows))
