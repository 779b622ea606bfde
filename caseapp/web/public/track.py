"""The citizen's side of a case: the private link, tracking by number and phone with a
one-time code, and the case page with what the citizen can do there."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from caseapp.extensions import limiter
from caseapp.models import Case
from caseapp.models.enums import Satisfaction
from caseapp.services import cases as case_service
from caseapp.services import casework, citizen, closing
from caseapp.services.attachments import open_attachment
from caseapp.services.errors import NotAllowed, NotFound, ValidationFailed
from caseapp.services.lifecycle import Actor
from caseapp.web.forms import apply_field_errors
from caseapp.web.public import access, bp
from caseapp.web.public.forms import (
    CodeForm,
    RateForm,
    ReviewForm,
    TextForm,
    TrackForm,
    WithdrawForm,
)


def _track_limit() -> str:
    return current_app.config["RATELIMIT_TRACK"]


@bp.route("/p/<key>")
@limiter.limit(lambda: current_app.config["RATELIMIT_PRIVATE_LINK"])
def open_private_link(key: str) -> Response:
    """Exchange the private link's key for a session, then drop the key from the URL."""
    try:
        case, follower = case_service.case_by_access_key(key)
    except NotFound:
        abort(404)
    access.grant(case.number, follower.id if follower else None)
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
        "public/track.html", form=form, found=found, searched=searched, code_form=code_form
    )


@bp.route("/track/code", methods=["POST"])
@limiter.limit(_track_limit)
def send_code() -> str:
    """Send a one-time code if number and phone match; the answer is the same either way."""
    form = CodeForm()
    case = citizen.find_for_tracking(form.number.data or "", form.phone.data or "")
    if case is not None:
        citizen.send_tracking_code(case)
    return render_template(
        "public/track_code.html",
        form=CodeForm(formdata=None, number=form.number.data, phone=form.phone.data),
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
    return render_template("public/track_code.html", form=form)


def _citizen_case(number: str) -> tuple[Case, Actor]:
    if not access.has_access(number):
        raise NotAllowed("no access to this case in this browser")
    case = case_service.case_by_number(number)
    return case, Actor.citizen(access.follower_of(number))


@bp.route("/track/<number>")
def citizen_case(number: str) -> Response | str:
    if not access.has_access(number):
        flash(
            _("To see this request, open your private link or enter its number and your phone."),
            "info",
        )
        return redirect(url_for("public.track"))
    case, actor = _citizen_case(number)
    return _render_case(case, actor)


def _render_case(case: Case, actor: Actor, **forms: object) -> str:
    return render_template(
        "public/case.html",
        case=case,
        is_filer=actor.follower_id is None,
        events=citizen.public_events(case),
        attachments=citizen.citizen_attachments(case),
        dates=citizen.expected_dates(case),
        can=citizen.can_act(case),
        info_form=forms.get("info_form") or TextForm(formdata=None),
        reply_form=forms.get("reply_form") or TextForm(formdata=None),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None),
        rate_form=forms.get("rate_form") or RateForm(formdata=None),
        review_form=forms.get("review_form") or ReviewForm(formdata=None),
        merged_into=case.duplicate_of,
    )


def _done(number: str, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("public.citizen_case", number=number))


@bp.route("/track/<number>/files/<int:attachment_id>")
def citizen_file(number: str, attachment_id: int) -> Response:
    case, _actor = _citizen_case(number)
    attachment = citizen.citizen_attachment(case, attachment_id)
    path = open_attachment(attachment, current_app.config["UPLOAD_DIR"])
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=attachment.content_type == "application/pdf",
        download_name=attachment.filename,
    )


@bp.route("/track/<number>/information", methods=["POST"])
def add_information(number: str) -> Response | str:
    case, actor = _citizen_case(number)
    form = TextForm()
    if form.validate_on_submit():
        try:
            casework.add_information(case, actor, form.text.data or "")
            return _done(number, _("Your information was added."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, info_form=form), 400


@bp.route("/track/<number>/reply", methods=["POST"])
def reply(number: str) -> Response | str:
    case, actor = _citizen_case(number)
    form = TextForm()
    if form.validate_on_submit():
        try:
            casework.citizen_replies(case, actor, form.text.data or "", version=None)
            return _done(number, _("Thank you. Your answer was sent."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, reply_form=form), 400


@bp.route("/track/<number>/withdraw", methods=["POST"])
def withdraw(number: str) -> Response | str:
    case, actor = _citizen_case(number)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            closing.withdraw_case(case, actor, form.reason.data or "")
            return _done(number, _("Your request was withdrawn."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, withdraw_form=form), 400


@bp.route("/track/<number>/rate", methods=["POST"])
def rate(number: str) -> Response | str:
    case, actor = _citizen_case(number)
    form = RateForm()
    if form.validate_on_submit():
        try:
            closing.rate_case(
                case,
                actor,
                form.solved.data == "yes",
                Satisfaction(form.satisfaction.data),
                form.comment.data or "",
                version=None,
            )
            return _done(number, _("Thank you for your rating."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, rate_form=form), 400


@bp.route("/track/<number>/review", methods=["POST"])
def request_review(number: str) -> Response | str:
    case, actor = _citizen_case(number)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            review, key = closing.request_review(case, actor, form.reason.data or "")
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            access.grant(review.number, None)
            return _done(
                review.number,
                _("Your request for review was filed as %(number)s.", number=review.number),
            )
    return _render_case(case, actor, review_form=form), 400
