"""Admin: Open311 API keys — the list, issuing a key (shown once) and revoking one."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from caseapp.services.admin import api_keys
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import apply_field_errors
from caseapp.web.public.forms import REQUIRED


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(REQUIRED), Length(max=api_keys.MAX_NAME_LENGTH)],
        description=_l("Who or what uses the key, e.g. the city's mobile app."),
        render_kw={"maxlength": api_keys.MAX_NAME_LENGTH},
    )


def _list_page(form: ApiKeyForm) -> str:
    return render_template("admin/api_keys.html", keys=api_keys.list_keys(), form=form)


@bp.route("/api-keys")
def api_keys_page() -> str:
    return _list_page(ApiKeyForm(formdata=None))


@bp.route("/api-keys", methods=["POST"])
def create_api_key() -> Response | tuple[str, int]:
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _list_page(form), 400
    try:
        key, raw = api_keys.create_key(form.name.data or "", current_user)
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return _list_page(form), 400
    # The key exists only in this response: no redirect (it would have to be kept
    # somewhere to show it after), and nothing may cache the page.
    response = Response(render_template("admin/api_key_created.html", key=key, raw=raw))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
def revoke_api_key(key_id: int) -> Response:
    key = api_keys.revoke_key(key_id, current_user)
    flash(_("The key %(name)s was revoked; it no longer works.", name=key.name), "success")
    return redirect(url_for("admin.api_keys_page"))
