"""Admin: categories (Open311 services) with their extra questions: the grouped list,
one form to add or edit, and retire/unretire (a category is never deleted)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from caseapp.i18n import current_language
from caseapp.models import Category
from caseapp.models.enums import QuestionType
from caseapp.services import directory
from caseapp.services.admin import catalog as admin_catalog
from caseapp.services.admin.catalog import CategoryFields, QuestionFields
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import apply_field_errors
from caseapp.web.parsing import id_choice, parse_id
from caseapp.web.public.forms import choice_list

EXTRA_QUESTIONS = 2  # blank question rows offered on the form
QUESTION_TYPE_LABELS = {
    QuestionType.STRING: _l("Short text"),
    QuestionType.TEXT: _l("Long text"),
    QuestionType.NUMBER: _l("Number"),
    QuestionType.DATETIME: _l("Date and time"),
    QuestionType.SINGLEVALUELIST: _l("One choice"),
    QuestionType.MULTIVALUELIST: _l("Several choices"),
}


class QuestionRowForm(Form):
    code = StringField(_l("Question code"), validators=[Length(max=40)])
    label_zh = StringField(_l("Question (Chinese)"), validators=[Length(max=200)])
    label_en = StringField(_l("Question (English)"), validators=[Length(max=240)])
    datatype = SelectField(_l("Answer type"), validate_choice=False)
    required = BooleanField(_l("Required"))
    choices = TextAreaField(
        _l("Choices"),
        render_kw={"rows": 3},
        description=_l("List questions only: one per line as key|Chinese|English."),
    )


class CategoryForm(FlaskForm):
    service_code = StringField(
        _l("Service code (Open311)"),
        validators=[Length(max=40)],
        description=_l("Lower-case letters, digits and hyphens, e.g. road-damage."),
    )
    name_zh = StringField(_l("Name (Chinese)"), validators=[Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=160)])
    group_zh = StringField(_l("Group (Chinese)"), validators=[Length(max=80)])
    group_en = StringField(_l("Group (English)"), validators=[Length(max=120)])
    keywords = StringField(_l("Search words (optional)"), validators=[Length(max=400)])
    default_department_id = SelectField(
        _l("Default department"), validate_choice=False, validators=[id_choice]
    )
    policy_id = SelectField(_l("Deadline policy"), validate_choice=False, validators=[id_choice])
    anonymous_allowed = BooleanField(_l("Anonymous filing allowed"))
    public_by_default = BooleanField(_l("Public by default"))
    questions = FieldList(FormField(QuestionRowForm), label=_l("Extra questions"))

    def fields(self) -> CategoryFields:
        return CategoryFields(
            service_code=self.service_code.data or "",
            name_zh=self.name_zh.data or "",
            name_en=self.name_en.data or "",
            group_zh=self.group_zh.data or "",
            group_en=self.group_en.data or "",
            keywords=self.keywords.data or "",
            policy_id=parse_id(self.policy_id.data),
            default_department_id=parse_id(self.default_department_id.data),
            anonymous_allowed=bool(self.anonymous_allowed.data),
            public_by_default=bool(self.public_by_default.data),
            questions=[
                QuestionFields(
                    code=(row.code.data or "").strip(),
                    label_zh=row.label_zh.data or "",
                    label_en=row.label_en.data or "",
                    datatype=row.datatype.data or "",
                    required=bool(row.required.data),
                    choices=row.choices.data or "",
                )
                for row in self.questions
            ],
        )


def _fill_choices(form: CategoryForm) -> None:
    lang = current_language()
    form.policy_id.choices = choice_list(
        [("", "—")] + [(str(p.id), p.name(lang)) for p in admin_catalog.policies()]
    )
    form.default_department_id.choices = choice_list(
        [("", _("None (intake chooses)"))]
        + [(str(d.id), d.name(lang)) for d in directory.departments()]
    )
    types = choice_list((t.value, label) for t, label in QUESTION_TYPE_LABELS.items())
    for row in form.questions:
        row.datatype.choices = types


def _form_data(category: Category | None) -> dict[str, Any]:
    blank = {"code": "", "label_zh": "", "label_en": "", "datatype": "string",
             "required": False, "choices": ""}  # fmt: skip
    if category is None:
        return {"questions": [dict(blank) for _ in range(EXTRA_QUESTIONS)]}
    return {
        "service_code": category.service_code,
        "name_zh": category.name_zh,
        "name_en": category.name_en,
        "group_zh": category.group_zh,
        "group_en": category.group_en,
        "keywords": category.keywords,
        "policy_id": str(category.policy_id),
        "default_department_id": str(category.default_department_id or ""),
        "anonymous_allowed": category.anonymous_allowed,
        "public_by_default": category.public_by_default,
        "questions": [
            {
                "code": q.code,
                "label_zh": q.label_zh,
                "label_en": q.label_en,
                "datatype": q.datatype.value,
                "required": q.required,
                "choices": admin_catalog.choices_text(q.choices),
            }
            for q in category.questions
        ]
        + [dict(blank) for _ in range(EXTRA_QUESTIONS)],
    }


def _render(form: CategoryForm, category: Category | None, status: int = 200) -> tuple[str, int]:
    _fill_choices(form)
    return render_template("admin/categories_form.html", form=form, category=category), status


@bp.route("/categories")
def categories() -> str:
    lang = current_language()
    groups: dict[str, list[Category]] = {}
    for category in admin_catalog.list_categories():
        groups.setdefault(category.group(lang), []).append(category)
    return render_template("admin/categories.html", groups=groups)


@bp.route("/categories/new", methods=["GET", "POST"])
def new_category() -> Response | tuple[str, int]:
    form = CategoryForm()
    if not form.is_submitted():
        return _render(CategoryForm(formdata=None, data=_form_data(None)), None)
    if form.validate():
        try:
            category = admin_catalog.create_category(current_user, form.fields())
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            flash(_("The category %(code)s was saved.", code=category.service_code), "success")
            return redirect(url_for("admin.categories"))
    return _render(form, None, status=400)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def edit_category(category_id: int) -> Response | tuple[str, int]:
    category = admin_catalog.get_category(category_id)
    form = CategoryForm()
    if not form.is_submitted():
        return _render(CategoryForm(formdata=None, data=_form_data(category)), category)
    if form.validate():
        try:
            admin_catalog.update_category(current_user, category.id, form.fields())
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            flash(_("The category %(code)s was saved.", code=category.service_code), "success")
            return redirect(url_for("admin.categories"))
    return _render(form, category, status=400)


@bp.route("/categories/<int:category_id>/retire", methods=["POST"])
def retire_category(category_id: int) -> Response:
    category = admin_catalog.retire_category(current_user, category_id)
    flash(_("%(code)s is no longer offered to the public.", code=category.service_code), "success")
    return redirect(url_for("admin.categories"))


@bp.route("/categories/<int:category_id>/unretire", methods=["POST"])
def unretire_category(category_id: int) -> Response:
    category = admin_catalog.unretire_category(current_user, category_id)
    flash(_("%(code)s is offered to the public again.", code=category.service_code), "success")
    return redirect(url_for("admin.categories"))
