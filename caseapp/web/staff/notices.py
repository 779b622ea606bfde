"""Printable written notices to the citizen: acceptance, non-acceptance, a petition's
decision and the decisions on its review and re-review. The notice is in the citizen's
language; the page around it stays in the clerk's."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app, render_template, request
from flask_babel import force_locale, format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from caseapp.i18n import city_timezone
from caseapp.labels import decision_label
from caseapp.models.bilingual import in_language
from caseapp.models.enums import TimeUnit
from caseapp.services.access.staff import case_for_staff
from caseapp.services.casework import supervision
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.notices.written import NoticeKind, WrittenNotice, written_notice
from caseapp.web.staff import bp
from caseapp.web.staff.case_forms import EmptyForm
from caseapp.web.staff.intake import case_path
from caseapp.workflow.deadlines import Period

NOTICE_TITLES = {
    NoticeKind.ACCEPTANCE: _l("Acceptance notice"),
    NoticeKind.REJECTION: _l("Notice of non-acceptance"),
    NoticeKind.DECISION: _l("Written decision on a petition"),
    NoticeKind.REVIEW_DECISION: _l("Review decision on a petition"),
    NoticeKind.RE_REVIEW_DECISION: _l("Re-review decision on a petition"),
}

# Where a petition that is not accepted belongs (DESIGN §3, reject).
BELONGS_TO = {
    "court": _l("the people's court"),
    "arbitration": _l("an arbitration body"),
    "administrative_review": _l("an administrative review body"),
    "discipline_inspection": _l("the discipline inspection and supervision bodies"),
}


def notice_title(kind: NoticeKind) -> str:
    return str(NOTICE_TITLES[kind])


def long_date(value: datetime | None) -> str:
    """A day as a letter writes it (2026年3月5日, March 5, 2026) in the city's zone."""
    return format_date(value, "long") if value is not None else ""


def deadline_day(value: datetime | None) -> str:
    """A deadline as a letter writes it: one at midnight is the day before (the last day
    on which the work is on time, DESIGN §4); another keeps its time of day."""
    if value is None:
        return ""
    local = value.astimezone(city_timezone())
    if (local.hour, local.minute) == (0, 0):
        return format_date(local - timedelta(days=1), "long", rebase=False)
    return f"{format_date(local, 'long', rebase=False)} {format_time(local, 'HH:mm', rebase=False)}"


def period_words(period: Period) -> str:
    """A period as a sentence says it: 30 days, 10 working days, 24 hours (a review
    window is never a single day, so no plural forms)."""
    if period.unit is TimeUnit.WORKING_DAYS:
        return _("%(num)s working days", num=period.value)
    if period.unit is TimeUnit.HOURS:
        return _("%(num)s hours", num=period.value)
    return _("%(num)s days", num=period.value)


def _sheet(notice: WrittenNotice) -> Markup:
    """The notice itself, rendered in the citizen's language."""
    lang = "en" if notice.case.language == "en" else "zh_CN"
    config = current_app.config
    with force_locale(lang):
        html = render_template(
            "staff/_notice_sheet.html",
            notice=notice,
            case=notice.case,
            notice_lang=lang,
            city=in_language(lang, config["CITY_NAME_ZH"], config["CITY_NAME_EN"]),
            title=notice_title(notice.kind),
            belongs_to=str(BELONGS_TO[notice.belongs_to]) if notice.belongs_to else "",
            decision=decision_label(notice.decision) if notice.decision else "",
            reviewed_decision=(
                decision_label(notice.reviewed.decision)
                if notice.reviewed and notice.reviewed.decision
                else ""
            ),
            review_period=period_words(notice.review.period) if notice.review else "",
            long_date=long_date,
            issued_on=notice.issued_at.astimezone(city_timezone()).date().isoformat(),
            deadline_day=deadline_day,
        )
    # Our own template's output, already escaped as it was rendered.
    return Markup(html)  # nosec B704


@bp.route("/cases/<number>/notice/<kind>", methods=["GET", "POST"])
def print_notice(number: str, kind: str) -> str:
    """A written notice to print; 404 for a case the user may not see, or a notice that
    does not apply to the case. The citizen's name is masked; a POST reveals it on the
    notice and records the reveal on the case."""
    case = case_for_staff(number, current_user)
    notice = written_notice(case, kind, current_user)
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        supervision.reveal_contact(case, Actor.staff(current_user))
        notice = written_notice(case, kind, current_user, revealed=True)
    return render_template(
        "staff/notice.html",
        notice=notice,
        case=case,
        sheet=_sheet(notice),
        title=notice_title(notice.kind),
        case_url=case_path(case.number),
        citizen_language="English" if case.language == "en" else "中文",
    )
