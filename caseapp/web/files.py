"""Files between a browser and a case, the same for staff and citizens: the uploads a
form sent, and a stored file sent back with its own type and name (a PDF as a download,
never shown inline from our origin)."""

from __future__ import annotations

from flask import current_app, request, send_file
from werkzeug.wrappers import Response

from caseapp.models import Attachment
from caseapp.services.filing.attachments import Upload, open_attachment


def uploads_in_request(field: str = "attachments") -> list[Upload]:
    """The files a form sent in ``field`` (empty file inputs left out), for the checks
    of ``services.filing.attachments.checked_uploads``."""
    return [
        Upload(filename=f.filename or "", data=f.read())
        for f in request.files.getlist(field)
        if f and f.filename
    ]


def send_case_file(attachment: Attachment) -> Response:
    path = open_attachment(attachment, current_app.config["UPLOAD_DIR"])
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=attachment.content_type == "application/pdf",
        download_name=attachment.filename,
    )
