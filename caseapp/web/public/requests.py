"""Filing a request: choose a category, fill in the form, see possible duplicates,
follow one instead or file, and get the confirmation with the private link."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from caseapp.extensions import limiter
from caseapp.i18n import current_language
from caseapp.models import Case
from caseapp.models.enums import CaseKind, NotifyBy
from caseapp.services.access import tracking as citizen
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import ValidationFailed
from caseapp.services.filing import cases as case_service
from caseapp.services.filing import catalog, duplicates
from caseapp.services.filing.attachments import checked_uploads
from caseapp.web.files import uploads_in_request
from caseapp.web.forms import apply_field_errors
from caseapp.web.parsing import parse_id
from caseapp.web.public import access, bp
from caseapp.web.public.forms import (
    FollowForm,
    RequestForm,
    choice_list,
    question_field_name,
    request_form_for,
)
from caseapp.workflow.citizen_access import CitizenAction


def _form_limit() -> str:
    return current_app.config["RATELIMIT_PUBLIC_FORM"]


@bp.route("/requests/new", methods=["GET", "POST"])
@limiter.limit(_form_limit, methods=["POST"])
def new_request() -> Response | str | tuple[str, int]:
    code = request.args.get("category", "")
    lang = current_language()
    if not code:
        query = request.args.get("q", "").strip()[:50]
        groups = catalog.public_category_groups(lang, query=query)
        return render_template("public/choose_category.html", groups=groups, query=query)
    category = catalog.active_category(code) or abort(404)
    form = request_form_for(category, lang)
    form.district.choices = choice_list(
        [("", _("Not sure"))] + [(str(d.id), d.name(lang)) for d in catalog.districts()]
    )
    matches: list[duplicates.Match] = []
    if form.validate_on_submit():
        result = _file(form, category)
        if isinstance(result, Response):
            return result
        matches = result
    page = render_template(
        "public/new_request.html",
        form=form,
        category=category,
        matches=matches,
        follow_form=FollowForm(
            formdata=None,
            data={
                "citizen_name": form.citizen_name.data,
                "citizen_phone": form.citizen_phone.data,
                "citizen_email": form.citizen_email.data,
            },
        ),
        had_files=bool(uploads_in_request()),
    )
    # A filing sent and not filed (its errors shown on the form) is a refusal, a 400 as
    # on every other form; offering similar cases to follow instead is not.
    refused = request.method == "POST" and not matches
    return (page, 400) if refused else page


def _file(form: RequestForm, category) -> Response | list[duplicates.Match]:  # type: ignore[no-untyped-def]
    """File the request, or return the open cases it may repeat (then nothing is saved)."""
    if form.website.data:
        form.form_errors.append(_("Your request could not be sent. Please try again."))
        return []
    try:
        files = checked_uploads(uploads_in_request())
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return []
    district_id = parse_id(form.district.data)
    duplicates.take_turn_to_file(category.id, form.title.data or "", form.citizen_phone.data or "")
    if not form.confirm_distinct.data:
        matches = duplicates.possible_duplicates(
            category.id,
            form.title.data or "",
            form.description.data or "",
            public_location=form.public_location.data or "",
            district_department_id=district_id,
            latitude=float(form.latitude.data) if form.latitude.data is not None else None,
            longitude=float(form.longitude.data) if form.longitude.data is not None else None,
        )
        if matches:
            access.remember_offered([m.case.number for m in matches])
            return matches
    answers = {
        q.code: getattr(form, question_field_name(q.code)).data
        for q in category.questions
        if hasattr(form, question_field_name(q.code))
    }
    new = case_service.NewCase(
        kind=CaseKind(form.kind.data),
        category_code=category.service_code,
        title=form.title.data or "",
        description=form.description.data or "",
        address=form.address.data or "",
        public_location=form.public_location.data or "",
        latitude=float(form.latitude.data) if form.latitude.data is not None else None,
        longitude=float(form.longitude.data) if form.longitude.data is not None else None,
        anonymous=bool(form.anonymous and form.anonymous.data),
        citizen_name=form.citizen_name.data or "",
        citizen_phone=form.citizen_phone.data or "",
        citizen_email=form.citizen_email.data or "",
        notify_by=NotifyBy(form.notify_by.data),
        consent_privacy=bool(form.consent_privacy.data),
        consent_public=bool(form.consent_public.data),
        answers={k: v for k, v in answers.items() if v not in (None, "", [])},
        language=current_language(),
        district_department_id=district_id,
    )
    try:
        case, key = case_service.submit_case(new, Actor.citizen(), files=files)
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return []
    access.grant(case.number, None)
    session["just_filed"] = {"number": case.number, "key": key}
    return redirect(url_for("public.request_filed"))


@bp.route("/requests/follow/<number>", methods=["POST"])
@limiter.limit(_form_limit)
@access.citizen_route(CitizenAction.FOLLOW)
def follow_request(case: Case, actor: Actor) -> Response:
    form = FollowForm()
    if not form.validate_on_submit():
        abort(400)
    new = case_service.NewFollower(
        name=form.citizen_name.data or "",
        phone=form.citizen_phone.data or "",
        email=form.citizen_email.data or "",
        notify_by=NotifyBy(form.notify_by.data or "sms"),
        language=current_language(),
    )
    try:
        key, follower = case_service.follow_case(case, actor, new, offered=access.offered())
    except ValidationFailed:
        abort(400)
    access.grant(case.number, follower.id)
    session["just_filed"] = {"number": case.number, "key": key, "followed": True}
    return redirect(url_for("public.request_filed"))


@bp.route("/requests/filed")
def request_filed() -> Response | str:
    filed = session.pop("just_filed", None)
    if not filed:
        return redirect(url_for("public.home"))
    case = case_service.case_by_number(filed["number"])
    link = url_for("public.open_private_link", key=filed["key"], _external=True)
    return render_template(
        "public/filed.html",
        case=case,
        link=link,
        followed=filed.get("followed", False),
        dates=citizen.expected_dates(case),
    )
