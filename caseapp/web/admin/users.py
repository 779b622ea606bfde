"""Admin: staff accounts — list, create, edit, deactivate and reactivate, reset password.

A one-time password is shown in the answer to the POST that made it, marked
``no-store``, instead of after a redirect: carrying it to a GET would put it in the
session cookie (signed, not encrypted) or a URL. Reloading that page posts again and
makes a new password (reset) or is refused (the username is taken), never a second
account."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from caseapp.i18n import current_language
from caseapp.labels import ROLE_LABELS
from caseapp.models import User
from caseapp.models.enums import Role
from caseapp.services.admin import users as admin_users
from caseapp.services.directory import departments
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import MultiCheckboxField, apply_field_errors
from caseapp.web.parsing import parse_id

LANGUAGE_LABELS = {"zh_CN": "简体中文", "en": "English"}


class AccountForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    roles = MultiCheckboxField(_l("Roles"))
    department = SelectField(_l("Department"), validate_choice=False)
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])
    language = SelectField(_l("Language"), validate_choice=False)


class NewAccountForm(AccountForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )


class ConfirmForm(FlaskForm):
    """A button with CSRF, for actions that need no input."""


def _fill_choices(form: AccountForm, user: User | None = None) -> None:
    lang = current_language()
    form.roles.choices = [(role.value, str(ROLE_LABELS[role])) for role in Role]
    options = [("", _("None"))] + [(str(d.id), d.name(lang)) for d in departments()]
    if user is not None and user.department is not None and user.department.retired_at:
        # A retired department stays shown for the accounts still in it.
        options.append((str(user.department.id), user.department.name(lang)))
    form.department.choices = options
    form.language.choices = list(LANGUAGE_LABELS.items())


def _choice_id(raw: str) -> int | None:
    """The id a select sent: None for the empty choice, -1 for one that is not an id."""
    if not raw:
        return None
    return parse_id(raw) or -1


def _account_input(form: AccountForm) -> admin_users.AccountInput:
    roles = set()
    for value in form.roles.data or []:
        try:
            roles.add(Role(value))
        except ValueError:
            continue
    raw_department = (form.department.data or "").strip()
    # Anything but a short number is no choice; -1 lets the service refuse it by name.
    department_id = _choice_id(raw_department)
    return admin_users.AccountInput(
        username=getattr(form, "username", None) and form.username.data or "",
        display_name=form.display_name.data or "",
        roles=frozenset(roles),
        department_id=department_id,
        email=form.email.data or None,
        language=form.language.data or "",
    )


def _one_time_password_page(user: User, password: str, created: bool) -> Response:
    response = make_response(
        render_template("admin/users_password.html", user=user, password=password, created=created)
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.route("/users")
def users() -> str:
    return render_template(
        "admin/users.html", users=admin_users.list_users(), role_labels=ROLE_LABELS,
        lang=current_language(),
    )  # fmt: skip


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> Response | str | tuple[str, int]:
    form = NewAccountForm()
    _fill_choices(form)
    if not form.is_submitted():
        form.language.data = current_language()
        return render_template("admin/users_form.html", form=form, user=None)
    if not form.validate():
        return render_template("admin/users_form.html", form=form, user=None), 400
    try:
        user, password = admin_users.create_account(current_user, _account_input(form))
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return render_template("admin/users_form.html", form=form, user=None), 400
    return _one_time_password_page(user, password, created=True)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> Response | str | tuple[str, int]:
    user = admin_users.get_user(user_id)
    defaults = {} if request.method == "POST" else _current_values(user)
    form = AccountForm(**defaults)
    _fill_choices(form, user)
    if not form.is_submitted():
        return render_template("admin/users_form.html", form=form, user=user)
    if not form.validate():
        return render_template("admin/users_form.html", form=form, user=user), 400
    try:
        admin_users.update_account(current_user, user.id, _account_input(form))
    except ValidationFailed as error:
        apply_field_errors(form, error)
        user = admin_users.get_user(user_id)
        return render_template("admin/users_form.html", form=form, user=user), 400
    flash(_("The account was saved."), "success")
    return redirect(url_for("admin.users"))


def _current_values(user: User) -> dict[str, object]:
    return {
        "display_name": user.display_name,
        "email": user.email or "",
        "language": user.language,
        "roles": [role.value for role in user.roles],
        "department": str(user.department_id or ""),
    }


def _status_page(user: User, form: ConfirmForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/users_status.html", user=user, form=form, cases=admin_users.open_cases(user),
        is_self=user.id == current_user.id,
    ), status  # fmt: skip


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
def deactivate_user(user_id: int) -> Response | tuple[str, int]:
    user = admin_users.get_user(user_id)
    form = ConfirmForm()
    if not form.is_submitted():
        return _status_page(user, form)
    if not form.validate():
        return _status_page(user, form, 400)
    try:
        admin_users.deactivate_account(current_user, user.id)
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return _status_page(admin_users.get_user(user_id), form, 400)
    flash(_("The account was deactivated. Reassign its open cases below."), "success")
    return redirect(url_for("admin.deactivate_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
def reactivate_user(user_id: int) -> Response | tuple[str, int]:
    user = admin_users.get_user(user_id)
    form = ConfirmForm()
    if not form.validate():
        return _status_page(user, form, 400)
    try:
        admin_users.reactivate_account(current_user, user.id)
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return _status_page(admin_users.get_user(user_id), form, 400)
    flash(_("The account was reactivated."), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int) -> Response | str | tuple[str, int]:
    user = admin_users.get_user(user_id)
    form = ConfirmForm()
    if not form.is_submitted():
        return render_template("admin/users_reset.html", user=user, form=form)
    if not form.validate():
        return render_template("admin/users_reset.html", user=user, form=form), 400
    user, password = admin_users.reset_password(current_user, user.id)
    return _one_time_password_page(user, password, created=False)
