"""How a citizen gets to their case: the private link, and tracking by number and phone
with a one-time code (the case page itself is ``citizen_case``)."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from caseapp.extensions import limiter
from caseapp.models import Case
from caseapp.services.access import tracking as citizen
from caseapp.services.errors import NotFound
from caseapp.services.filing import cases as case_service
from caseapp.web.public import access, bp
from caseapp.web.public.forms import (
    CodeForm,
    TrackForm,
)


def _track_limit() -> str:
    return current_app.config["RATELIMIT_TRACK"]


def _code_limits() -> str:
    """How many codes can be asked for, told to everyone alike before and after."""
    limits = citizen.tracking_code_limits()
    return _(
        "You can ask for up to %(case_count)s codes for one request within %(case_window)s, "
        "and up to %(phone_count)s codes for one phone within %(phone_window)s.",
        case_count=limits.per_case,
        case_window=format_timedelta(limits.case_window, threshold=1),
        phone_count=limits.per_phone,
        phone_window=format_timedelta(limits.phone_window, threshold=1),
    )


@bp.route("/p/<key>")
@limiter.limit(lambda: current_app.config["RATELIMIT_PRIVATE_LINK"])
def open_private_link(key: str) -> Response:
    """Exchange the private link's key for a session, then drop the key from the URL."""
    try:
        case, follower = case_service.case_by_access_key(key)
    except NotFound:
        abort(404)
    access.grant(case.number, follower.id if follower else None)
    # The page opens in the language the request was filed (or followed) in, unless
    # this browser chose one already.
    language = follower.language if follower else case.language
    if "lang" not in session and language in current_app.config["LANGUAGES"]:
        session["lang"] = language
    return redirect(url_for("public.citizen_case", number=case.number))


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_track_limit, methods=["POST"])
def track() -> str:
    form = TrackForm()
    found: Case | None = None
    searched = False
    if form.validate_on_submit():
        searched = True
        found = citizen.find_for_tracking(form.number.data or "", form.phone.data or "")
    code_form = CodeForm(formdata=None, number=form.number.data, phone=form.phone.data)
    return render_template(
        "public/track.html",
        form=form,
        found=found,
        searched=searched,
        code_form=code_form,
        code_limits=_code_limits(),
    )


@bp.route("/track/code", methods=["POST"])
@limiter.limit(_track_limit)
def send_code() -> str:
    """Send a one-time code if number and phone match and the request's and phone's
    limits allow; the answer is the same in every case (no oracle)."""
    form = CodeForm()
    case = citizen.find_for_tracking(form.number.data or "", form.phone.data or "")
    if case is not None:
        citizen.send_tracking_code(case)
    return render_template(
        "public/track_code.html",
        form=CodeForm(formdata=None, number=form.number.data, phone=form.phone.data),
        code_limits=_code_limits(),
    )


@bp.route("/track/verify", methods=["POST"])
@limiter.limit(_track_limit)
def verify_code() -> Response | str:
    form = CodeForm()
    if form.validate_on_submit():
        case = citizen.find_for_tracking(form.number.data or "", form.phone.data or "")
        if case is not None and citizen.verify_tracking_code(case, form.code.data or ""):
            access.grant(case.number, None)
            return redirect(url_for("public.citizen_case", number=case.number))
        form.code.errors = [_("The code is not right, or it has expired.")]
    return render_template("public/track_code.html", form=form, code_limits=_code_limits())
