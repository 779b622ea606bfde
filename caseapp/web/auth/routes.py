from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from caseapp.extensions import limiter
from caseapp.models import User
from caseapp.security import start_staff_session
from caseapp.services.access import accounts, security_log
from caseapp.services.access.security_log import Refusal
from caseapp.services.errors import ValidationFailed
from caseapp.web.auth import bp, clear_session_but_preferences, throttle
from caseapp.web.auth.forms import LoginForm, PasswordChangeForm
from caseapp.web.forms import apply_field_errors


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _counts_as_failure(response: Response) -> bool:
    # Only a redirect is a success; every other answer spends the address's limit.
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    """Only a path on this site; never another host, and nothing a header cannot carry."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        # Browsers read a backslash as a slash ("/\\host" is another host); a control
        # character (CR/LF above all) cannot go into the Location header.
        and "\\" not in target
        and target.isprintable()
    ):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("staff.queue")


def _begin_session(user: User) -> None:
    """A fresh session for this user: nothing from before survives but the display
    choices, and both session clocks start now."""
    clear_session_but_preferences()
    login_user(user)
    start_staff_session()


def _sign_in_refused() -> str:
    """The one message of every refused sign-in, whatever the reason (docs/security.md:
    the same page for all; 429 once a limit of the account or the address is used up)."""
    return _("The username or password is not right, or there were too many attempts.")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_counts_as_failure)
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("staff.queue"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form, error=None)
    username = form.username.data or ""
    if throttle.account_locked(username):
        security_log.record_sign_in_refused(username, Refusal.ACCOUNT_THROTTLED)
        return render_template("auth/login.html", form=form, error=_sign_in_refused()), 429
    user = accounts.sign_in(username, form.password.data or "").user
    if user is None:
        throttle.record_failure(username)
        return render_template("auth/login.html", form=form, error=_sign_in_refused())
    throttle.forget_failures(username)
    _begin_session(user)
    target = _safe_next(request.args.get("next"))
    if user.must_change_password:
        return redirect(url_for("auth.change_password", next=target))
    return redirect(target)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    # A new session token: a copy of this cookie taken before now opens nothing after.
    accounts.end_sessions(current_user._get_current_object())
    logout_user()
    clear_session_but_preferences()
    flash(_("You have signed out."), "info")
    response = redirect(url_for("auth.login"))
    # Whatever of the staff pages the browser kept goes too; the cookie stays, since it
    # carries the language chosen (and the session it holds is already signed out).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_counts_as_failure)
def change_password() -> Response | str | tuple[str, int]:
    user: User = current_user._get_current_object()
    forced = user.must_change_password
    form = PasswordChangeForm()
    if not form.is_submitted():
        return render_template("auth/password.html", form=form, forced=forced)
    if not form.validate():
        return render_template("auth/password.html", form=form, forced=forced), 400
    # Wrong current passwords count like failed sign-ins: a borrowed session must not
    # become a way to guess the password.
    if throttle.account_locked(user.username):
        security_log.record_password_change_refused(user, Refusal.ACCOUNT_THROTTLED)
        return _password_change_throttled(form, forced)
    try:
        accounts.change_own_password(
            user, form.current_password.data or "", form.new_password.data or ""
        )
    except ValidationFailed as error:
        if "current_password" in error.field_errors:
            throttle.record_failure(user.username)
        apply_field_errors(form, error)
        return render_template("auth/password.html", form=form, forced=forced), 400
    # Every other session of the account has ended; this browser goes on in a new one.
    _begin_session(user)
    flash(_("Your password was changed. Any other sessions were signed out."), "success")
    return redirect(_safe_next(request.args.get("next")))


def _password_change_throttled(form: PasswordChangeForm, forced: bool) -> tuple[str, int]:
    form.current_password.errors = [
        _("Too many wrong attempts. Wait a few minutes before trying again.")
    ]
    return render_template("auth/password.html", form=form, forced=forced), 429


@bp.errorhandler(RateLimitExceeded)
def address_limit_used_up(error: RateLimitExceeded) -> Response | tuple[str, int]:
    """The address's failed attempts are used up (RATELIMIT_LOGIN): the sign-in page
    answers as to any refused sign-in, the password page as to a locked account; both
    are written to the audit log. Flask-Limiter refuses before the view, so the form
    is read here as sent, unchecked (the log keeps only a digest or an account)."""
    if request.endpoint == "auth.change_password":
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        user: User = current_user._get_current_object()
        security_log.record_password_change_refused(user, Refusal.ADDRESS_THROTTLED)
        return _password_change_throttled(PasswordChangeForm(), user.must_change_password)
    security_log.record_sign_in_refused(request.form.get("username", ""), Refusal.ADDRESS_THROTTLED)
    return render_template("auth/login.html", form=LoginForm(), error=_sign_in_refused()), 429
