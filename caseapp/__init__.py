"""caseapp: a city's tracker of citizen service requests and petitions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from caseapp import logs
from config import INSTANCE_DIR, Config, DemoConfig, demo_secret_key

ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The app was started with settings it cannot run safely with."""


def create_app(config_class: type[Config] | None = None, **overrides: Any) -> Flask:
    """Build the application: config, extensions, blueprints, CLI."""
    if config_class is None:
        demo = os.environ.get("CASEAPP_DEMO", "").lower() in {"1", "true", "yes"}
        config_class = DemoConfig if demo else Config
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    if not app.testing:
        logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    _check_secret_key(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from caseapp import db_setup, i18n, security
    from caseapp.extensions import csrf, db, limiter, login_manager, migrate

    db_setup.configure_engine_options(app)
    db.init_app(app)
    db_setup.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    from caseapp.web import parsing

    app.request_class = parsing.Request  # damaged text reads as U+FFFD everywhere
    parsing.init_body_limit(app)  # before anything reads a body
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    login_manager.init_app(app)

    from caseapp.web import register_blueprints

    register_blueprints(app)

    from caseapp.cli import register_commands

    register_commands(app)
    return app


def _check_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.config.get("DEMO"):
        app.config["SECRET_KEY"] = demo_secret_key()
        return
    raise ConfigurationError(
        "SECRET_KEY is not set. Set it in the environment (e.g. "
        "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`), "
        "or set CASEAPP_DEMO=1 for the local demo."
    )
