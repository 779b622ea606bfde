from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from caseapp.services.notices import outbox as outbox_admin
from caseapp.web.admin import bp


@bp.route("/")
def index() -> str:
    return render_template("admin/index.html", counts=outbox_admin.counts())


@bp.route("/outbox")
def outbox() -> str:
    return render_template(
        "admin/outbox.html", counts=outbox_admin.counts(), dead=outbox_admin.dead_letters()
    )


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
def retry_notice(message_id: int) -> Response:
    outbox_admin.retry(message_id, current_user)
    flash(_("The notice will be sent again in the next round."), "success")
    return redirect(url_for("admin.outbox"))


@bp.route("/outbox/<int:message_id>/drop", methods=["POST"])
def drop_notice(message_id: int) -> Response:
    outbox_admin.drop(message_id, current_user)
    flash(_("The notice was dropped."), "success")
    return redirect(url_for("admin.outbox"))
