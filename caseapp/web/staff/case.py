"""The staff case page and its actions: exactly those the lifecycle allows this user now.

Each action posts its own small form with the case version it was shown; the view
parses it, calls one service, and redirects — or re-renders the page with the errors,
or with a conflict message (409) and the typed text kept when the case changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from caseapp.i18n import current_language
from caseapp.models import Case
from caseapp.models.enums import EventAction, PetitionDecision, RequestKind, Role, Satisfaction
from caseapp.models.types import ID_MAX
from caseapp.services import directory
from caseapp.services.access.staff import case_for_staff
from caseapp.services.casework import closing, decisions, intake, supervision
from caseapp.services.casework import handling as casework
from caseapp.services.casework import lifecycle as lifecycle_service
from caseapp.services.casework.lifecycle import Actor, capacities_of
from caseapp.services.errors import StaleVersion, ValidationFailed
from caseapp.services.filing.attachments import checked_uploads
from caseapp.services.filing.validation import mask_name, mask_phone
from caseapp.services.ledgers import items as ledgers
from caseapp.services.messages import N_
from caseapp.services.notices.written import decision_notice_kind
from caseapp.services.pages import case_page as page_data
from caseapp.services.pages import escalation_board
from caseapp.web.files import send_case_file, uploads_in_request
from caseapp.web.forms import apply_field_errors
from caseapp.web.parsing import parse_id, parse_ids, parse_int
from caseapp.web.public.forms import choice_list
from caseapp.web.staff import bp
from caseapp.web.staff import case_forms as forms
from caseapp.workflow.ledger_items import may_manage_items
from caseapp.workflow.visibility import may_see_identity

A = EventAction


@dataclass(frozen=True)
class ActionSpec:
    """One action of the page: the lifecycle action it is, its form, what it calls."""

    action: EventAction
    form: type[forms.ActionForm]
    run: Callable[[Case, Any, Actor, int | None], Any]
    label: str
    done: str
    # The form's fields filled from the case, for an action that edits what is there.
    prefill: Callable[[Case], dict[str, Any]] | None = None


def _version(value: str | None) -> int:
    """The case version the form was shown; -1 (never current, so a 409 with the case as
    it is now) if it names none or is not a version at all: every action form of the
    page carries one, and a post without it (replayed with the field taken out, found
    by the hostile corpus) must not skip the check that the case did not change."""
    found = parse_int(value or "", minimum=0, maximum=ID_MAX)
    return -1 if found is None else found


def _merge(case: Case, form: Any, actor: Actor, version: int | None) -> Any:
    into = case_for_staff(form.into.data.strip().upper(), actor.user)  # type: ignore[arg-type]
    return intake.merge_case(case, actor, into, version=version)


def _link_ledger_item(case: Case, form: Any, actor: Actor, version: int | None) -> Any:
    item = ledgers.find_item(form.item.data or "")
    return supervision.link_ledger_item(case, actor, item.id, version=version)


def _set_plan(case: Case, form: Any, actor: Actor, version: int | None) -> Any:
    milestones = [
        supervision.Milestone(row.due_on.data, row.text.data or "", bool(row.done.data))
        for row in form.milestones
    ]
    return supervision.set_case_plan(case, actor, form.plan.data, milestones, version=version)


ACTIONS: dict[str, ActionSpec] = {
    "dispatch": ActionSpec(A.DISPATCH, forms.DispatchForm, lambda c, f, a, v: intake.dispatch_case(
        c, a, parse_id(f.department.data), version=v, assisting_ids=parse_ids(f.assisting.data or []),
        handler_id=parse_id(f.handler.data)), N_("Dispatch"), N_("The case was dispatched.")),
    "forward": ActionSpec(A.FORWARD, forms.ForwardForm, lambda c, f, a, v: casework.forward_case(
        c, a, parse_id(f.department.data), version=v), N_("Forward to a child department"), N_("The case was forwarded.")),
    "reassign": ActionSpec(A.REASSIGN, forms.DepartmentReasonForm, lambda c, f, a, v: casework.reassign_case(
        c, a, parse_id(f.department.data), f.reason.data or "", version=v), N_("Reassign"), N_("The case was reassigned.")),
    "answer": ActionSpec(A.ANSWER_DIRECTLY, forms.PublicTextForm, lambda c, f, a, v: intake.answer_directly(
        c, a, f.text.data, version=v), N_("Answer directly"), N_("The answer was sent.")),
    "reject": ActionSpec(A.REJECT, forms.RejectForm, lambda c, f, a, v: intake.reject_case(
        c, a, f.text.data, version=v, belongs_to=f.belongs_to.data or None), N_("Reject"), N_("The case was not accepted.")),
    "reinstate": ActionSpec(A.REINSTATE, forms.TextForm, lambda c, f, a, v: intake.reinstate_case(
        c, a, f.text.data, version=v), N_("Reinstate"), N_("The case is open again.")),
    "merge": ActionSpec(A.MERGE, forms.MergeForm, _merge, N_("Merge into another case"), N_("The case was merged.")),
    "return": ActionSpec(A.RETURN, forms.TextForm, lambda c, f, a, v: casework.return_case(
        c, a, f.text.data, version=v), N_("Return to intake"), N_("The case was returned.")),
    "request-return": ActionSpec(A.REQUEST_RETURN, forms.TextForm, lambda c, f, a, v: casework.request_return(
        c, a, f.text.data, version=v), N_("Ask to return"), N_("The return request was sent.")),
    "decide-return": ActionSpec(A.DECIDE_RETURN, forms.DecisionForm, lambda c, f, a, v: decisions.decide_request(RequestKind.RETURN,
        c, a, f.approve.data == "yes", f.note.data or "", version=v), N_("Decide the return"), N_("The return was decided.")),
    "sign": ActionSpec(A.SIGN_FOR, forms.SignForm, lambda c, f, a, v: casework.sign_for_case(
        c, a, version=v, handler_id=parse_id(f.handler.data)), N_("Sign for"), N_("The case was signed for.")),
    "ask": ActionSpec(A.ASK_CITIZEN, forms.PublicTextForm, lambda c, f, a, v: casework.ask_citizen(
        c, a, f.text.data, version=v), N_("Ask the citizen"), N_("The question was sent.")),
    "record-reply": ActionSpec(A.CITIZEN_REPLIES, forms.TextForm, lambda c, f, a, v: casework.citizen_replies(
        c, a, f.text.data, version=v), N_("Record the citizen's reply (by phone)"), N_("The reply was recorded.")),
    "contact": ActionSpec(A.RECORD_CONTACT, forms.ContactForm, lambda c, f, a, v: casework.record_contact(
        c, a, f.method.data, f.text.data or "", version=v), N_("Record contact"), N_("The contact was recorded.")),
    "extension": ActionSpec(A.REQUEST_EXTENSION, forms.ExtensionForm, lambda c, f, a, v: casework.request_extension(
        c, a, f.days.data, f.reason.data, version=v), N_("Ask for more time"), N_("The extension request was sent.")),
    "decide-extension": ActionSpec(A.DECIDE_EXTENSION, forms.DecisionForm, lambda c, f, a, v: decisions.decide_request(RequestKind.EXTENSION,
        c, a, f.approve.data == "yes", f.note.data or "", version=v), N_("Decide the extension"), N_("The extension was decided.")),
    "resolve": ActionSpec(A.RESOLVE, forms.ResolveForm, lambda c, f, a, v: casework.resolve_case(
        c, a, f.text.data, version=v, decision=PetitionDecision(f.decision.data) if f.decision.data else None,
        files=checked_uploads(uploads_in_request())), N_("Resolve"), N_("The answer was sent.")),
    "note": ActionSpec(A.NOTE, forms.NoteForm, lambda c, f, a, v: casework.add_note(
        c, a, f.text.data, public=bool(f.public.data), version=v), N_("Add a note"), N_("The note was added.")),
    "rate": ActionSpec(A.RATE, forms.FollowUpRatingForm, lambda c, f, a, v: closing.rate_case(
        c, a, f.solved.data == "yes", Satisfaction(f.satisfaction.data), f.text.data or "", version=v),
        N_("Record the follow-up rating"), N_("The rating was recorded.")),
    "reopen": ActionSpec(A.REOPEN, forms.TextForm, lambda c, f, a, v: closing.reopen_case(
        c, a, f.text.data, version=v), N_("Reopen"), N_("The case was reopened.")),
    "decide-redo": ActionSpec(A.DECIDE_REDO, forms.DecisionForm, lambda c, f, a, v: decisions.decide_request(RequestKind.REDO,
        c, a, f.approve.data == "yes", f.note.data or "", version=v), N_("Decide on a further redo"), N_("The redo was decided.")),
    "urge": ActionSpec(A.URGE, forms.TextForm, lambda c, f, a, v: supervision.urge_case(
        c, a, f.text.data, version=v), N_("Urge"), N_("The case was urged.")),
    "leader": ActionSpec(A.SET_LEADER, forms.LeaderForm, lambda c, f, a, v: supervision.set_responsible_leader(
        c, a, parse_id(f.leader.data), version=v), N_("Set the responsible leader"), N_("The responsible leader was set.")),
    "plan": ActionSpec(A.SET_CASE_PLAN, forms.CasePlanForm, _set_plan, N_("Set the case plan"),
        N_("The case plan was saved."), prefill=forms.case_plan_data),
    "legacy": ActionSpec(A.MARK_LEGACY, forms.LegacyForm, lambda c, f, a, v: supervision.mark_legacy(
        c, a, version=v, entry=ledgers.LegacyEntry(parse_id(f.category.data), f.target_date.data, parse_id(f.item.data))),
        N_("Mark as a legacy issue"), N_("The case was marked as a legacy issue.")),
    "link-ledger-item": ActionSpec(A.LINK_LEDGER_ITEM, forms.LedgerItemLinkForm, _link_ledger_item,
        N_("Link to a ledger item"), N_("The case was linked to the ledger item.")),
    "exclude-rating": ActionSpec(A.EXCLUDE_RATING, forms.TextForm, lambda c, f, a, v: closing.exclude_rating(
        c, a, f.text.data, version=v), N_("Exclude the rating"), N_("The rating was excluded.")),
}  # fmt: skip

PUBLIC_TEXT_ACTIONS = frozenset({"answer", "reject", "ask", "resolve"})
# The actions that take the composer's text: one box for them all, a button for each.
COMPOSER_ACTIONS = ("resolve", "answer", "ask", "note")
# The composer's actions that send its files.
FILE_ACTIONS = frozenset({"resolve"})
# Actions taken with one press: shown as buttons, not as forms to open.
BUTTON_ACTIONS = frozenset({"sign"})


def _actor() -> Actor:
    return Actor.staff(current_user)


def _fill_choices(form: forms.ActionForm, case: Case) -> None:
    """Give the form's selects their options for this case."""
    lang = current_language()

    def department_choices() -> list[tuple[str, str]]:
        return [(str(d.id), d.name(lang)) for d in directory.departments()]

    if isinstance(form, forms.DispatchForm):
        departments = department_choices()
        form.department.choices = choice_list([("", "—"), *departments])
        form.assisting.choices = choice_list(departments)
        handlers = directory.users_with_role(Role.HANDLER)
        form.handler.choices = choice_list(
            [("", "—")]
            + [
                (str(u.id), f"{u.display_name} · {u.department.name(lang) if u.department else ''}")
                for u in handlers
            ]
        )
    elif isinstance(form, forms.ForwardForm):
        children = [(str(d.id), d.name(lang)) for d in page_data.child_departments(case)]
        form.department.choices = choice_list([("", "—"), *children])
    elif isinstance(form, forms.DepartmentReasonForm):
        form.department.choices = choice_list([("", "—"), *department_choices()])
    elif isinstance(form, forms.SignForm):
        handlers = directory.users_with_role(Role.HANDLER, case.lead_department_id)
        named = [(str(u.id), u.display_name) for u in handlers]
        # The first choice names nobody only where the service knows whom that means.
        unnamed = casework.handler_unnamed(case, current_user, capacities_of(_actor(), case))
        if unnamed is None:
            form.handler.choices = choice_list(named or [("", "—")])
        elif unnamed.id == current_user.id:
            form.handler.choices = choice_list([("", _("Myself")), *named])
        else:
            first = _("%(name)s (named at dispatch)", name=unnamed.display_name)
            form.handler.choices = choice_list([("", first), *named])
    elif isinstance(form, forms.LegacyForm):
        matches = [(str(i.id), f"#{i.id} {i.title}") for i in ledgers.matching_items(case)]
        form.item.choices = choice_list([("", _("No: a new item")), *matches])
        form.category.choices = choice_list(
            [("", "—")] + [(str(c.id), c.name(lang)) for c in ledgers.legacy_categories()]
        )
    elif isinstance(form, forms.LeaderForm):
        form.leader.choices = choice_list(
            [("", "—")]
            + [(str(u.id), u.display_name) for u in directory.users_with_role(Role.LEADER)]
        )


def _own_ids(form: forms.ActionForm, slug: str) -> forms.ActionForm:
    """Give the form's fields ids of their own (``resolve-text``, ``ask-confirm_public``):
    the page holds one form per action, and a label must tick or focus the box of its
    own form, an error link jump to it. The names stay as they are."""
    for field in form:
        field.id = f"{slug}-{field.id}"
        field.label.field_id = field.id
    return form


def _forms_for(case: Case, available: list[EventAction]) -> dict[str, forms.ActionForm]:
    """A fresh form for every action this user may take now."""
    built: dict[str, forms.ActionForm] = {}
    for slug, spec in ACTIONS.items():
        if spec.action not in available:
            continue
        filled = spec.prefill(case) if spec.prefill else {}
        if slug == "dispatch" and case.category.default_department_id is not None:
            # The category's usual department, chosen already (intake may change it).
            filled["department"] = str(case.category.default_department_id)
        form = spec.form(formdata=None, version=str(case.version), **filled)
        _fill_choices(form, case)
        built[slug] = _own_ids(form, slug)
    return built


def _composer(
    case: Case,
    action_forms: dict[str, forms.ActionForm],
    template_text: str,
    sent: forms.ActionForm | None,
) -> forms.ComposerForm | None:
    """The one text box for the actions in ``COMPOSER_ACTIONS`` this user may take now
    (their own forms leave ``action_forms``), holding what was sent and its errors when
    one of them was refused."""
    if not any(slug in action_forms for slug in COMPOSER_ACTIONS):
        return None
    composer = forms.ComposerForm(formdata=None, version=str(case.version), text=template_text)
    for slug in COMPOSER_ACTIONS:
        action_forms.pop(slug, None)
    if sent is not None:
        for name in ("text", "decision", "confirm_public", "version"):
            if name in sent:
                composer[name].data = sent[name].data
                composer[name].errors = list(sent[name].errors)
    return _own_ids(composer, "composer")


def render_case(
    case: Case,
    *,
    open_slug: str | None = None,
    open_form: forms.ActionForm | None = None,
    contact: Any = None,
    conflict: bool = False,
) -> str:
    actor = _actor()
    capacities = capacities_of(actor, case)
    # What the services accept from this user now, and nothing else (workflow.offers).
    available = lifecycle_service.offered_actions(case, actor)
    templates = page_data.reply_templates(case)
    chosen = next((t for t in templates if str(t.id) == request.args.get("template")), None)
    template_text = chosen.body_zh if chosen else ""
    action_forms = _forms_for(case, available)
    composed = open_slug in COMPOSER_ACTIONS
    if open_slug and open_form is not None:
        if conflict:
            open_form.version.data = str(case.version)
        _fill_choices(open_form, case)
        if not composed:
            action_forms[open_slug] = _own_ids(open_form, open_slug)
    composer_buttons = [slug for slug in COMPOSER_ACTIONS if slug in action_forms]
    composer = _composer(case, action_forms, template_text, open_form if composed else None)
    identity_allowed = may_see_identity(case, capacities)
    waiting = page_data.waiting_requests(case)
    return render_template(
        "staff/case.html",
        case=case,
        events=page_data.timeline(case),
        waiting=waiting,
        who_decides=escalation_board.who_decides(waiting),
        clocks=page_data.running_clocks(case),
        milestones=page_data.plan_milestones(case),
        links=page_data.links(case, current_user),
        ledger_item_pages=may_manage_items(current_user.roles),
        duplicates=page_data.possible_duplicates(case) if "merge" in action_forms else [],
        forms=action_forms,
        composer=composer,
        composer_buttons=composer_buttons,
        button_actions=BUTTON_ACTIONS,
        specs=ACTIONS,
        open_slug=open_slug,
        conflict=conflict,
        templates=templates,
        identity_allowed=identity_allowed,
        masked_name=mask_name(case.citizen_name),
        masked_phone=mask_phone(case.citizen_phone) if case.citizen_phone else "",
        contact=contact,
        can_reveal=identity_allowed and A.REVEAL_CONTACT in available,
        decision_notice=decision_notice_kind(case).value,
        public_text_actions=PUBLIC_TEXT_ACTIONS,
    )


@bp.route("/cases/<number>")
def case_page(number: str) -> str:
    return render_case(case_for_staff(number, current_user))


@bp.route("/cases/<number>/act/<slug>", methods=["POST"])
def case_action(number: str, slug: str) -> Response | tuple[str, int]:
    case = case_for_staff(number, current_user)
    spec = ACTIONS.get(slug) or abort(404)
    form = spec.form()
    _fill_choices(form, case)
    if slug == "note" and form.public.data and not form.confirm_public.data:
        form.confirm_public.errors = [_("Please confirm the public text.")]
        return render_case(case, open_slug=slug, open_form=form), 400
    if not form.validate_on_submit():
        return render_case(case, open_slug=slug, open_form=form), 400
    if slug in COMPOSER_ACTIONS and slug not in FILE_ACTIONS and uploads_in_request():
        # The composer has one file box; only resolving sends files. Never drop them.
        form.text.errors = [_("Files are sent only with the answer that resolves the case.")]
        return render_case(case, open_slug=slug, open_form=form), 400
    version = _version(form.version.data)
    try:
        spec.run(case, form, _actor(), version)
    except StaleVersion:
        fresh = case_for_staff(number, current_user)
        return render_case(fresh, open_slug=slug, open_form=form, conflict=True), 409
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return render_case(
            case_for_staff(number, current_user), open_slug=slug, open_form=form
        ), 400
    public_reply = slug == "note" and bool(form.public.data)
    flash(_("The public reply was added.") if public_reply else _(spec.done), "success")
    return _back_after_action(number)


def _back_after_action(number: str) -> Response:
    """Back to the escalation board when the action was taken there (a fixed value,
    never a URL from the form), else to the case page."""
    if request.form.get("back") == "escalations":
        return redirect(url_for("supervisor.escalations", _anchor="approvals"))
    return redirect(url_for("staff.case_page", number=number))


@bp.route("/cases/<number>/reveal", methods=["POST"])
def reveal_contact(number: str) -> str:
    """Show the citizen's name and contact on this response only; the reveal is an event."""
    case = case_for_staff(number, current_user)
    form = forms.EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    contact = supervision.reveal_contact(case, _actor())
    return render_case(case, contact=contact)


@bp.route("/cases/<number>/files/<int:attachment_id>")
def case_file(number: str, attachment_id: int) -> Response:
    case = case_for_staff(number, current_user)
    attachment = next((a for a in case.attachments if a.id == attachment_id), None) or abort(404)
    return send_case_file(attachment)
