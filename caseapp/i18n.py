"""Languages: Simplified Chinese by default, English second; ``?lang=`` is remembered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, session
from flask_babel import format_datetime, get_locale

from caseapp.extensions import babel
from caseapp.models.bilingual import in_language


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    remembered = session.get("lang")
    if remembered in languages:
        return remembered
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """'zh_CN' or 'en', for choosing a model's name_zh or name_en."""
    return "en" if str(get_locale()).startswith("en") else "zh_CN"


def city_timezone() -> tzinfo:
    return ZoneInfo(current_app.config["CITY_TIMEZONE"])


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A stored UTC time shown in the city's zone."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def local_deadline(value: datetime | str | None) -> str:
    """A deadline in the city's zone; one at midnight reads as 24:00 of the day before,
    the last day on which the work is on time (DESIGN §4). Takes the ISO text a notice
    stores too (shown as it is if it is not one)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    local = value.astimezone(city_timezone())
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_timezone=app.config["CITY_TIMEZONE"],
    )
    app.jinja_env.filters["local_dt"] = local_datetime
    app.jinja_env.filters["deadline"] = local_deadline

    from caseapp.labels import (
        channel_label,
        clock_label,
        close_reason_label,
        decision_label,
        event_label,
        inbox_label,
        kind_label,
        ledger_status_label,
        request_label,
        satisfaction_label,
        staff_event_label,
        status_label,
    )

    @app.context_processor
    def language_context() -> dict[str, object]:
        lang = current_language()
        city = in_language(lang, app.config["CITY_NAME_ZH"], app.config["CITY_NAME_EN"])
        return {
            "lang": lang,
            "languages": app.config["LANGUAGES"],
            "city_name": city,
            "status_label": status_label,
            "kind_label": kind_label,
            "event_label": event_label,
            "staff_event_label": staff_event_label,
            "close_reason_label": close_reason_label,
            "clock_label": clock_label,
            "channel_label": channel_label,
            "inbox_label": inbox_label,
            "request_label": request_label,
            "satisfaction_label": satisfaction_label,
            "decision_label": decision_label,
            "ledger_status_label": ledger_status_label,
        }
