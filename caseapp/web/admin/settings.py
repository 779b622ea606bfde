"""Admin: settings kept in the database — the scorecard weights."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from caseapp.services.admin import settings as admin_settings
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import apply_field_errors
from caseapp.web.public.forms import REQUIRED

PERCENT = _l("Enter a whole number from 0 to 100.")


def _weight(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[InputRequired(REQUIRED), NumberRange(0, 100, PERCENT)],
        render_kw={"min": 0, "max": 100, "step": 1, "inputmode": "numeric"},
    )


class WeightsForm(FlaskForm):
    """Field names match the service's field errors."""

    response = _weight(_l("Response rate (%)"))
    resolution = _weight(_l("Resolution rate (%)"))
    satisfaction = _weight(_l("Satisfaction rate (%)"))

    def validate(self, extra_validators: object = None) -> bool:
        valid = super().validate(extra_validators)
        # Text that is not a whole number: one reason, ours, instead of WTForms' two.
        for name in admin_settings.WEIGHT_NAMES:
            f = getattr(self, name)
            if f.errors and f.raw_data and f.raw_data[0].strip() and f.data is None:
                f.errors = [str(PERCENT)]
        return valid


def _page(form: WeightsForm) -> str:
    return render_template(
        "admin/settings.html", form=form, weights=admin_settings.scorecard_weights()
    )


@bp.route("/settings")
def settings() -> str:
    current = admin_settings.scorecard_weights()
    form = WeightsForm(
        formdata=None,
        response=round(current.response),
        resolution=round(current.resolution),
        satisfaction=round(current.satisfaction),
    )
    return _page(form)


@bp.route("/settings/scorecard-weights", methods=["POST"])
def save_scorecard_weights() -> Response | tuple[str, int]:
    form = WeightsForm()
    if not form.validate_on_submit():
        return _page(form), 400
    try:
        admin_settings.save_scorecard_weights(
            {name: getattr(form, name).data for name in admin_settings.WEIGHT_NAMES},
            current_user,
        )
    except ValidationFailed as error:
        apply_field_errors(form, error)
        return _page(form), 400
    flash(_("The scorecard weights were saved."), "success")
    return redirect(url_for("admin.settings"))
