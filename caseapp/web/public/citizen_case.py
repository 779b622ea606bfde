"""The citizen's case page and what can be done there. Every route is a
``citizen_route``: the citizen table (``workflow.citizen_access``) decides who may take
it, and the services check the case's state again when the action is taken."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from caseapp.models import Case
from caseapp.models.enums import NotifyBy, Satisfaction
from caseapp.services.access import citizen as citizen_access
from caseapp.services.casework import closing
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import ValidationFailed
from caseapp.services.filing import cases as case_service
from caseapp.services.filing.attachments import checked_uploads
from caseapp.web.files import send_case_file, uploads_in_request
from caseapp.web.forms import apply_field_errors
from caseapp.web.public import access, bp
from caseapp.web.public.forms import (
    NoticesForm,
    RateForm,
    ReplyForm,
    ReviewForm,
    TextForm,
    UnfollowForm,
    WithdrawForm,
)
from caseapp.workflow.citizen_access import CitizenAction

A = CitizenAction


def _to_lookup() -> Response:
    flash(
        _("To see this request, open your private link or enter its number and your phone."),
        "info",
    )
    return redirect(url_for("public.track"))


@bp.route("/track/<number>")
@access.citizen_route(A.VIEW, refused=_to_lookup)
def citizen_case(case: Case, actor: Actor) -> Response | str:
    return _render_case(case, actor)


def _render_case(case: Case, actor: Actor, **forms: object) -> str:
    view = citizen_access.case_view(case, actor)
    notices = NoticesForm(formdata=None)
    if view.follower is not None:
        notices.notify_by.data = view.follower.notify_by.value
    return render_template(
        "public/case.html",
        case=case,
        view=view,
        A=A,
        info_form=forms.get("info_form") or TextForm(formdata=None),
        reply_form=forms.get("reply_form") or ReplyForm(formdata=None),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None),
        rate_form=forms.get("rate_form") or RateForm(formdata=None),
        review_form=forms.get("review_form") or ReviewForm(formdata=None),
        notices_form=forms.get("notices_form") or notices,
        unfollow_form=UnfollowForm(formdata=None),
        merged_into=case.duplicate_of,
    )


def _done(number: str, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("public.citizen_case", number=number))


@bp.route("/track/<number>/files/<int:attachment_id>")
@access.citizen_route(A.OPEN_FILE)
def citizen_file(case: Case, actor: Actor, attachment_id: int) -> Response:
    attachment = citizen_access.attachment(case, actor, attachment_id)
    return send_case_file(attachment)


@bp.route("/track/<number>/information", methods=["POST"])
@access.citizen_route(A.ADD_INFORMATION)
def add_information(case: Case, actor: Actor) -> Response | tuple[str, int]:
    form = TextForm()
    if form.validate_on_submit():
        try:
            casework.add_information(case, actor, form.text.data or "")
            return _done(case.number, _("Your information was added."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, info_form=form), 400


@bp.route("/track/<number>/reply", methods=["POST"])
@access.citizen_route(A.REPLY)
def reply(case: Case, actor: Actor) -> Response | tuple[str, int]:
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            files = checked_uploads(uploads_in_request())
            casework.citizen_replies(case, actor, form.text.data or "", version=None, files=files)
            return _done(case.number, _("Thank you. Your answer was sent."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, reply_form=form), 400


@bp.route("/track/<number>/withdraw", methods=["POST"])
@access.citizen_route(A.WITHDRAW)
def withdraw(case: Case, actor: Actor) -> Response | tuple[str, int]:
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            closing.withdraw_case(case, actor, form.reason.data or "")
            return _done(case.number, _("Your request was withdrawn."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, withdraw_form=form), 400


@bp.route("/track/<number>/rate", methods=["POST"])
@access.citizen_route(A.RATE)
def rate(case: Case, actor: Actor) -> Response | tuple[str, int]:
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
            return _done(case.number, _("Thank you for your rating."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, rate_form=form), 400


@bp.route("/track/<number>/review", methods=["POST"])
@access.citizen_route(A.REQUEST_REVIEW)
def request_review(case: Case, actor: Actor) -> Response | tuple[str, int]:
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            review, _key = closing.request_review(case, actor, form.reason.data or "")
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            # The review case is the petitioner's: this browser holds it as its filer.
            access.grant(review.number, None)
            return _done(
                review.number,
                _("Your request for review was filed as %(number)s.", number=review.number),
            )
    return _render_case(case, actor, review_form=form), 400


@bp.route("/track/<number>/notices", methods=["POST"])
@access.citizen_route(A.CHOOSE_NOTICES)
def choose_notices(case: Case, actor: Actor) -> Response | tuple[str, int]:
    form = NoticesForm()
    if form.validate_on_submit():
        try:
            case_service.choose_notices(case, actor, NotifyBy(form.notify_by.data))
            return _done(case.number, _("Your choice of notices was saved."))
        except ValidationFailed as error:
            apply_field_errors(form, error)
    return _render_case(case, actor, notices_form=form), 400


@bp.route("/track/<number>/unfollow", methods=["POST"])
@access.citizen_route(A.UNFOLLOW)
def unfollow(case: Case, actor: Actor) -> Response:
    form = UnfollowForm()
    if not form.validate_on_submit():
        return _render_case(case, actor), 400  # type: ignore[return-value]
    case_service.unfollow_case(case, actor)
    access.revoke(case.number)
    flash(_("You no longer follow %(number)s.", number=case.number), "success")
    return redirect(url_for("public.home"))
