"""Staff sign-in and sign-out, choosing one's own password, and the rules that end a
staff session on the server."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin, current_user, logout_user
from werkzeug.wrappers import Response

from caseapp import db_setup
from caseapp.extensions import login_manager
from caseapp.models import User
from caseapp.security import SessionEnd, staff_session_end, touch_idle_clock
from caseapp.services.access import accounts, security_log

bp = Blueprint("auth", __name__)

# Session keys that are the visitor's display choices, not the sign-in: they survive
# signing in and out.
KEPT_ACROSS_SIGN_IN = ("lang", "text_size")
# The faces an account with an issued password may not open until it chose its own;
# a refusal (403, 404) on them to a signed-in account is written to the audit log.
STAFF_FACES = frozenset({"staff", "supervisor", "admin"})
REFUSALS = frozenset({403, 404})


class Anonymous(AnonymousUserMixin):
    """Whoever is not signed in: holds no role. Flask-Login's ``login_required`` lets an
    OPTIONS request through unsigned (for CORS preflights), so the faces' guards that ask
    for a role met an anonymous user without ``has_role``: a 500."""

    def has_role(self, *roles: object) -> bool:
        return False


def clear_session_but_preferences() -> None:
    """Empty the session, keeping only the language and text size."""
    kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    session.update(kept)


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.anonymous_user = Anonymous
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # The clocks are read before the account: a cookie past its lifetime or idle
        # timeout names no one, wherever current_user is first looked at.
        ended = staff_session_end(
            current_app.config["STAFF_IDLE_TIMEOUT_MINUTES"],
            current_app.config["STAFF_SESSION_MAX_HOURS"],
        )
        if ended is not None:
            g.staff_session_end = ended
            return None
        return accounts.load_session_user(session_id)

    @app.before_request
    def staff_session_rules() -> Response | None:
        if current_user.is_authenticated:
            touch_idle_clock()
            if current_user.must_change_password and request.blueprint in STAFF_FACES:
                return redirect(url_for("auth.change_password"))
            return None
        if "_user_id" not in session:
            return None
        # A cookie that was signed in, but whose session ended on the server (sign-out
        # elsewhere, a password change or reset, deactivation) or by its clocks.
        ended = g.pop("staff_session_end", None)
        logout_user()
        clear_session_but_preferences()
        if ended is SessionEnd.IDLE:
            minutes = current_app.config["STAFF_IDLE_TIMEOUT_MINUTES"]
            flash(
                _(
                    "You were signed out after %(minutes)s minutes without activity.",
                    minutes=minutes,
                ),
                "info",
            )
        elif ended is SessionEnd.LIFETIME:
            flash(
                _(
                    "You were signed out %(hours)s hours after signing in. Please sign in again.",
                    hours=current_app.config["STAFF_SESSION_MAX_HOURS"],
                ),
                "info",
            )
        else:
            return None
        return redirect(url_for("auth.login", next=request.path))

    app.after_request(record_refused_access)


def record_refused_access(response: Response) -> Response:
    """Write to the audit log each page of the staff faces refused to a signed-in account:
    a 403, or a 404 (a case the user may not see is answered as one that does not
    exist, so every 404 of these faces is written). Other answers cost nothing: the
    status and blueprint are read before anything else."""
    if response.status_code not in REFUSALS or request.blueprint not in STAFF_FACES:
        return response
    if not current_user.is_authenticated:
        return response
    user_id: int = current_user.id
    # On SQLite a page's read transaction cannot write: the event is a writing unit.
    request.environ[db_setup.UNIT_KEY] = "write"
    number = (request.view_args or {}).get("number")
    security_log.record_access_refused(
        user_id,
        status=response.status_code,
        method=request.method,
        path=request.path,
        case_number=number if isinstance(number, str) else None,
    )
    return response


from caseapp.web.auth import routes  # noqa: E402,F401
