"""Sending a case's stored file to a browser, the same for staff and citizens: its own
type and name, a PDF as a download (never shown inline from our origin)."""

from __future__ import annotations

from flask import current_app, send_file
from werkzeug.wrappers import Response

from caseapp.models import Attachment
from caseapp.services.filing.attachments import open_attachment


def send_case_file(attachment: Attachment) -> Response:
    path = open_attachment(attachment, current_app.config["UPLOAD_DIR"])
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=attachment.content_type == "application/pdf",
        download_name=attachment.filename,
    )
