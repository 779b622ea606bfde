"""Blueprints, one package per face; views are thin."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from caseapp.services.errors import NotAllowed, NotFound, StaleVersion, ValidationFailed
from caseapp.web import display, parsing


def register_blueprints(app: Flask) -> None:
    from caseapp.extensions import csrf
    from caseapp.web.admin import bp as admin_bp
    from caseapp.web.auth import bp as auth_bp
    from caseapp.web.auth import init_login
    from caseapp.web.open311 import PREFIX as OPEN311_PREFIX
    from caseapp.web.open311 import bp as open311_bp
    from caseapp.web.public import bp as public_bp
    from caseapp.web.staff import bp as staff_bp
    from caseapp.web.supervisor import bp as supervisor_bp

    # Bounded ids in every route and the NUL guard, before any rule is added.
    parsing.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp, url_prefix="/staff")
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(supervisor_bp, url_prefix="/supervisor")
    # The API authenticates by key, not by session: no CSRF token to send.
    csrf.exempt(open311_bp)
    app.register_blueprint(open311_bp, url_prefix=OPEN311_PREFIX)
    init_login(app)
    display.init_app(app)
    _register_error_pages(app)


def _error_page(status: int, title: str, message: str) -> tuple[str, int] | Response:
    """The error page; under the API's path, the API's error list instead."""
    from caseapp.web.open311 import is_api_path
    from caseapp.web.open311.answers import error_answer, requested_format

    if is_api_path(request.path):
        return error_answer(status, [message], requested_format(request.path))
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(400)
    @app.errorhandler(ValidationFailed)
    def bad_request(error: Exception) -> tuple[str, int] | Response:
        return _error_page(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(parsing.NulInRequest)
    def nul_in_request(error: parsing.NulInRequest) -> tuple[str, int] | Response:
        return _error_page(
            400,
            _("Bad request"),
            _("What you sent contains a character that is not allowed (NUL)."),
        )

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int] | Response:
        return _error_page(
            400,
            _("The form has expired"),
            _("Please go back, reload the page and submit the form again."),
        )

    @app.errorhandler(403)
    @app.errorhandler(NotAllowed)
    def forbidden(error: Exception) -> tuple[str, int] | Response:
        # A refusal that has a reason for the user (a window passed, a request waiting)
        # says it; any other stays generic.
        reason = getattr(error, "reason", None)
        message = _(reason) if reason else _("You may not open this page.")
        return _error_page(403, _("Not allowed"), message)

    @app.errorhandler(404)
    @app.errorhandler(NotFound)
    def not_found(error: Exception) -> tuple[str, int] | Response:
        return _error_page(404, _("Page not found"), _("There is no page at this address."))

    @app.errorhandler(405)
    def method_not_allowed(error: Exception) -> tuple[str, int] | Response:
        return _error_page(405, _("Not allowed"), _("This address does not accept that request."))

    @app.errorhandler(StaleVersion)
    def conflict(error: StaleVersion) -> tuple[str, int] | Response:
        return _error_page(
            409,
            _("The case has changed"),
            _("Someone changed this case after you opened it. Reload it and try again."),
        )

    @app.errorhandler(413)
    def too_large(error: Exception) -> tuple[str, int] | Response:
        return _error_page(413, _("Too large"), _("What you sent is larger than allowed."))

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> tuple[str, int] | Response:
        return _error_page(
            429, _("Too many attempts"), _("Please wait a few minutes before trying again.")
        )

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int] | Response:
        return _error_page(
            500, _("Something went wrong"), _("The error has been logged. Please try again later.")
        )
