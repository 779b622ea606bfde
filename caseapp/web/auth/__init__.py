"""Staff sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from caseapp.extensions import login_manager
from caseapp.models import User
from caseapp.security import IDLE_KEY, idle_too_long, touch_idle_clock
from caseapp.services import accounts

bp = Blueprint("auth", __name__)


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        return accounts.load_session_user(session_id)

    @app.before_request
    def staff_idle_timeout():  # type: ignore[no-untyped-def]
        if not current_user.is_authenticated:
            return None
        minutes = current_app.config["STAFF_IDLE_TIMEOUT_MINUTES"]
        if idle_too_long(minutes):
            logout_user()
            session.pop(IDLE_KEY, None)
            flash(
                _(
                    "You were signed out after %(minutes)s minutes without activity.",
                    minutes=minutes,
                ),
                "info",
            )
            return redirect(url_for("auth.login", next=request.path))
        touch_idle_clock()
        return None


from caseapp.web.auth import routes  # noqa: E402,F401
