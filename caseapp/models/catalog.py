"""What the city configures: categories, deadline policies, calendar, reply templates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models.bilingual import BilingualName, in_language
from caseapp.models.enums import CalendarDayKind, CaseKind, PolicyTerm, QuestionType, TimeUnit
from caseapp.models.org import Department, User
from caseapp.models.types import UTCDateTime, str_enum, utcnow


class DeadlinePolicy(BilingualName, db.Model):
    """A named set of deadline terms (DESIGN §4); a category names one."""

    __tablename__ = "deadline_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(160))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    terms: Mapped[list[DeadlineTerm]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", lazy="selectin"
    )


class DeadlineTerm(db.Model):
    """One term of a policy: a clock's length and unit, with its urgent value.

    ``kind`` NULL is the default for every kind of case; a row naming a kind (e.g.
    petitions: 15 calendar days to accept) overrides it for that kind.
    """

    __tablename__ = "deadline_terms"
    __table_args__ = (
        sa.UniqueConstraint("policy_id", "term", "kind", name="uq_deadline_terms_policy_term_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deadline_policies.id", ondelete="CASCADE"), index=True
    )
    term: Mapped[PolicyTerm] = mapped_column(str_enum(PolicyTerm))
    kind: Mapped[CaseKind | None] = mapped_column(str_enum(CaseKind))
    unit: Mapped[TimeUnit] = mapped_column(str_enum(TimeUnit))
    value: Mapped[int]
    urgent_unit: Mapped[TimeUnit | None] = mapped_column(str_enum(TimeUnit))
    urgent_value: Mapped[int | None]

    policy: Mapped[DeadlinePolicy] = relationship(back_populates="terms")


class Category(BilingualName, db.Model):
    """A service type (事项分类); its ``service_code`` is the Open311 service code."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(160))
    group_zh: Mapped[str] = mapped_column(sa.String(80))
    group_en: Mapped[str] = mapped_column(sa.String(120))
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    keywords: Mapped[str] = mapped_column(sa.String(400), default="")
    default_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("deadline_policies.id"))
    anonymous_allowed: Mapped[bool] = mapped_column(default=False)
    public_by_default: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    default_department: Mapped[Department | None] = relationship()
    policy: Mapped[DeadlinePolicy] = relationship()
    questions: Mapped[list[CategoryQuestion]] = relationship(
        back_populates="category",
        cascade="all, delete-orphan",
        order_by="CategoryQuestion.sort_order",
    )

    def group(self, lang: str) -> str:
        return in_language(lang, self.group_zh, self.group_en)

    def description(self, lang: str) -> str:
        """The description in ``lang``, or the name where there is none."""
        return in_language(lang, self.description_zh, self.description_en) or self.name(lang)


class CategoryQuestion(db.Model):
    """An extra question a category asks (an Open311 attribute)."""

    __tablename__ = "category_questions"
    __table_args__ = (
        sa.UniqueConstraint("category_id", "code", name="uq_category_questions_category_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(40))
    label_zh: Mapped[str] = mapped_column(sa.String(200))
    label_en: Mapped[str] = mapped_column(sa.String(240))
    datatype: Mapped[QuestionType] = mapped_column(str_enum(QuestionType))
    required: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
    # For list types: [{"key": "...", "name_zh": "...", "name_en": "..."}]
    choices: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def label(self, lang: str) -> str:
        return in_language(lang, self.label_zh, self.label_en)

    def choice_names(self, lang: str) -> list[tuple[str, str]]:
        """A list question's choices as (key, name in ``lang``)."""
        return [(c["key"], in_language(lang, c["name_zh"], c["name_en"])) for c in self.choices]

    category: Mapped[Category] = relationship(back_populates="questions")


class CalendarOverride(db.Model):
    """A date that the admin declares a holiday or a working day; wins over the package.
    ``calendar_year`` is set on the days of an imported official schedule."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, unique=True)
    kind: Mapped[CalendarDayKind] = mapped_column(str_enum(CalendarDayKind))
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    calendar_year: Mapped[int | None] = mapped_column(
        sa.ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True
    )

    created_by: Mapped[User | None] = relationship()


class CalendarYear(db.Model):
    """A year whose complete official holiday schedule the admin imported: the year
    counts as covered (DESIGN §4). Years the package knows need no row."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(sa.String(300))
    # "official", or "test-example" (a made-up schedule, only in demo and test instances)
    status: Mapped[str] = mapped_column(sa.String(20))
    # SHA-256 of the file imported, to tell one version of a schedule from another.
    digest: Mapped[str] = mapped_column(sa.String(64))
    holidays: Mapped[int]
    workdays: Mapped[int]
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    imported_by: Mapped[User | None] = relationship()


class ReplyTemplate(db.Model):
    """A canned answer staff can start from; per category, or for all when none."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    body_zh: Mapped[str] = mapped_column(sa.Text)
    body_en: Mapped[str] = mapped_column(sa.Text, default="")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship()
