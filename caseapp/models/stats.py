"""Figures kept for the public statistics page (issue 19): per department and local
day, what the scorecards count; per day, the requests received; the cases by category
and status now. The worker keeps them up to date (caseapp.reports.daily_totals); the
public page reads only these rows, never the cases."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db
from caseapp.models.enums import CaseStatus
from caseapp.models.types import UTCDateTime, str_enum


class ScorecardDaily(db.Model):
    """What one department's scorecard counts on one day in the city's zone, over the
    cases the public may see (never petitions or reports). Ratios are built from these
    sums at read time, so any run of days adds up to the figures of its period."""

    __tablename__ = "scorecard_daily"

    department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    responses: Mapped[int] = mapped_column(default=0)
    responses_on_time: Mapped[int] = mapped_column(default=0)
    rated: Mapped[int] = mapped_column(default=0)  # excluded ratings left out
    solved: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    basically_satisfied: Mapped[int] = mapped_column(default=0)
    excluded: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    answered_on_time: Mapped[int] = mapped_column(default=0)
    answer_working_days: Mapped[int] = mapped_column(default=0)  # their sum
    redos: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.Index("ix_scorecard_daily_day", "day"),)


class PublicDailyFiling(db.Model):
    """Requests the public may see, received on one day in the city's zone."""

    __tablename__ = "public_daily_filings"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    received: Mapped[int] = mapped_column(default=0)


class PublicStatusCount(db.Model):
    """Requests the public may see, by category and status, as of the last refresh."""

    __tablename__ = "public_status_counts"

    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), primary_key=True)
    cases: Mapped[int] = mapped_column(default=0)


class DailyTotalsState(db.Model):
    """The one row that says the figures exist, as of when, and how far the refresh has
    read: events and cases with higher ids are news to the next refresh."""

    __tablename__ = "daily_totals_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recent_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the last days recounted
    events_seen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    cases_seen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
