"""The WSGI entry point of the production server: ``gunicorn caseapp.wsgi:app``."""

from caseapp import create_app

app = create_app()
