"""Admin: reply templates per category — the list, adding, editing, retiring and
bringing back."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from caseapp.i18n import current_language
from caseapp.models import ReplyTemplate
from caseapp.services.admin import reply_templates as admin_templates
from caseapp.services.admin.reply_templates import MAX_BODY_LENGTH, MAX_TITLE_LENGTH, TemplateFields
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import apply_field_errors
from caseapp.web.parsing import id_choice, parse_id
from caseapp.web.public.forms import REQUIRED, choice_list


class ReplyTemplateForm(FlaskForm):
    """Field names match the service's field errors."""

    category_id = SelectField(
        _l("Category"),
        validate_choice=False,
        validators=[Optional(), id_choice],
        description=_l("Staff are offered the template on the cases of this category."),
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(REQUIRED), Length(max=MAX_TITLE_LENGTH)],
        render_kw={"maxlength": MAX_TITLE_LENGTH},
    )
    body_zh = TextAreaField(
        _l("Text in Chinese"),
        validators=[DataRequired(REQUIRED), Length(max=MAX_BODY_LENGTH)],
        render_kw={"rows": 8, "maxlength": MAX_BODY_LENGTH},
    )
    body_en = TextAreaField(
        _l("Text in English"),
        validators=[Optional(), Length(max=MAX_BODY_LENGTH)],
        description=_l("Optional; for answers to citizens who read English."),
        render_kw={"rows": 8, "maxlength": MAX_BODY_LENGTH},
    )

    def fields(self) -> TemplateFields:
        value = self.category_id.data
        return TemplateFields(
            category_id=parse_id(value),
            title=self.title.data or "",
            body_zh=self.body_zh.data or "",
            body_en=self.body_en.data or "",
        )


def _fill_choices(form: ReplyTemplateForm, row: ReplyTemplate | None = None) -> None:
    lang = current_language()
    pairs = [("", _("Every category"))]
    pairs += [(str(c.id), c.name(lang)) for c in admin_templates.categories()]
    # A template in a category retired since keeps it until an admin moves it.
    if row is not None and row.category is not None and row.category.retired_at is not None:
        pairs.append((str(row.category.id), row.category.name(lang)))
    form.category_id.choices = choice_list(pairs)


def _form_page(form: ReplyTemplateForm, row: ReplyTemplate | None = None) -> str:
    _fill_choices(form, row)
    return render_template("admin/reply_template_form.html", form=form, row=row)


@bp.route("/reply-templates")
def reply_templates() -> str:
    return render_template("admin/reply_templates.html", groups=admin_templates.list_by_category())


@bp.route("/reply-templates/new")
def new_reply_template() -> str:
    return _form_page(ReplyTemplateForm(formdata=None))


@bp.route("/reply-templates/new", methods=["POST"])
def create_reply_template() -> Response | tuple[str, int]:
    form = ReplyTemplateForm()
    _fill_choices(form)
    if not form.validate_on_submit():
        return _form_page(form), 400
    try:
        admin_templates.create_template(form.fields(), current_user)
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return _form_page(form), 400
    flash(_("The reply template was added."), "success")
    return redirect(url_for("admin.reply_templates"))


@bp.route("/reply-templates/<int:template_id>")
def edit_reply_template(template_id: int) -> str:
    row = admin_templates.template(template_id)
    form = ReplyTemplateForm(
        formdata=None,
        category_id=str(row.category_id or ""),
        title=row.title,
        body_zh=row.body_zh,
        body_en=row.body_en,
    )
    return _form_page(form, row)


@bp.route("/reply-templates/<int:template_id>", methods=["POST"])
def update_reply_template(template_id: int) -> Response | tuple[str, int]:
    row = admin_templates.template(template_id)
    form = ReplyTemplateForm()
    _fill_choices(form, row)
    if not form.validate_on_submit():
        return _form_page(form, row), 400
    try:
        admin_templates.update_template(template_id, form.fields(), current_user)
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return _form_page(form, admin_templates.template(template_id)), 400
    flash(_("The reply template was saved."), "success")
    return redirect(url_for("admin.reply_templates"))


@bp.route("/reply-templates/<int:template_id>/retire", methods=["POST"])
def retire_reply_template(template_id: int) -> Response:
    admin_templates.set_template_retired(template_id, True, current_user)
    flash(_("The reply template was retired; staff no longer see it."), "success")
    return redirect(url_for("admin.reply_templates"))


@bp.route("/reply-templates/<int:template_id>/restore", methods=["POST"])
def restore_reply_template(template_id: int) -> Response:
    admin_templates.set_template_retired(template_id, False, current_user)
    flash(_("The reply template is in use again."), "success")
    return redirect(url_for("admin.reply_templates"))
