"""Admin: departments — a tree by parent; create, rename, move, retire, bring back."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from caseapp.i18n import current_language
from caseapp.models import Department
from caseapp.services.admin import departments as admin_departments
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import apply_field_errors
from caseapp.web.parsing import parse_id


class DepartmentForm(FlaskForm):
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=160)])
    parent = SelectField(_l("Parent department"), validate_choice=False)


class NewDepartmentForm(DepartmentForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )


class ConfirmForm(FlaskForm):
    """A button with CSRF."""


def _fill_choices(form: DepartmentForm, department: Department | None = None) -> None:
    lang = current_language()
    options = [("", _("None (top level)"))]
    options += [(str(d.id), d.name(lang)) for d in admin_departments.parent_choices(department)]
    parent = department.parent if department is not None else None
    if parent is not None and parent.retired_at is not None:
        # A retired parent stays shown for the departments still under it.
        options.append((str(parent.id), parent.name(lang)))
    form.parent.choices = options


def _department_input(form: DepartmentForm) -> admin_departments.DepartmentInput:
    raw = (form.parent.data or "").strip()
    # Anything but a short number is no choice; -1 lets the service refuse it by name.
    parent_id = None if not raw else (parse_id(raw) or -1)
    return admin_departments.DepartmentInput(
        code=form.code.data or "" if isinstance(form, NewDepartmentForm) else "",
        name_zh=form.name_zh.data or "",
        name_en=form.name_en.data or "",
        parent_id=parent_id,
    )


def _render_form(form: DepartmentForm, department: Department | None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "admin/departments_form.html", form=form, department=department,
        confirm=ConfirmForm(), lang=current_language(),
    ), status  # fmt: skip


@bp.route("/departments")
def departments() -> str:
    return render_template(
        "admin/departments.html", rows=admin_departments.department_tree(),
        lang=current_language(), confirm=ConfirmForm(),
    )  # fmt: skip


@bp.route("/departments/new", methods=["GET", "POST"])
def new_department() -> Response | tuple[str, int]:
    form = NewDepartmentForm()
    _fill_choices(form)
    if not form.is_submitted():
        return _render_form(form, None)
    if not form.validate():
        return _render_form(form, None, 400)
    try:
        admin_departments.create_department(current_user, _department_input(form))
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return _render_form(form, None, 400)
    flash(_("The department was added."), "success")
    return redirect(url_for("admin.departments"))


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
def edit_department(department_id: int) -> Response | tuple[str, int]:
    department = admin_departments.get_department(department_id)
    if request.method == "POST":
        form = DepartmentForm()
    else:
        form = DepartmentForm(
            name_zh=department.name_zh, name_en=department.name_en,
            parent=str(department.parent_id or ""),
        )  # fmt: skip
    _fill_choices(form, department)
    if not form.is_submitted():
        return _render_form(form, department)
    if not form.validate():
        return _render_form(form, department, 400)
    try:
        admin_departments.update_department(current_user, department.id, _department_input(form))
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return _render_form(form, admin_departments.get_department(department_id), 400)
    flash(_("The department was saved."), "success")
    return redirect(url_for("admin.departments"))


def _change_state(department_id: int, change, done: str) -> Response | tuple[str, int]:  # type: ignore[no-untyped-def]
    department = admin_departments.get_department(department_id)
    confirm = ConfirmForm()
    if not confirm.validate():
        return _render_state_error(department, confirm)
    try:
        change(current_user, department.id)
    except ValidationFailed as error:
        apply_field_errors(confirm, error)
        return _render_state_error(admin_departments.get_department(department_id), confirm)
    flash(done, "success")
    return redirect(url_for("admin.departments"))


def _render_state_error(department: Department, confirm: ConfirmForm) -> tuple[str, int]:
    form = DepartmentForm(
        formdata=None, name_zh=department.name_zh, name_en=department.name_en,
        parent=str(department.parent_id or ""),
    )  # fmt: skip
    _fill_choices(form, department)
    return render_template(
        "admin/departments_form.html", form=form, department=department, confirm=confirm,
        lang=current_language(),
    ), 400  # fmt: skip


@bp.route("/departments/<int:department_id>/retire", methods=["POST"])
def retire_department(department_id: int) -> Response | tuple[str, int]:
    return _change_state(
        department_id, admin_departments.retire_department, _("The department was retired.")
    )


@bp.route("/departments/<int:department_id>/unretire", methods=["POST"])
def unretire_department(department_id: int) -> Response | tuple[str, int]:
    return _change_state(
        department_id, admin_departments.unretire_department,
        _("The department is offered in the choices again."),
    )  # fmt: skip
