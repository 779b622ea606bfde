"""``flask --app caseapp …`` commands (``db`` comes from Flask-Migrate)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from caseapp.models.enums import Role
from caseapp.services import accounts
from caseapp.services.errors import ValidationFailed

users_cli = AppGroup("users", help="Staff accounts.")
demo_cli = AppGroup("demo", help="Demo data for the local run.")


@users_cli.command("create")
@click.option("--username", prompt=True, help="Sign-in name.")
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role; repeat for several.",
)
@click.option("--department", default=None, help="Department code, e.g. zjj.")
@click.option("--email", default=None, help="For staff notices by email.")
@click.password_option(help="At least 10 characters; asked for when not given.")
def create_user_command(
    username: str,
    display_name: str,
    roles: tuple[str, ...],
    department: str | None,
    email: str | None,
    password: str,
) -> None:
    """Create a staff account."""
    try:
        user = accounts.create_user(
            username, password, display_name, [Role(r) for r in roles], department, email
        )
    except ValidationFailed as exc:
        for field_name, reason in exc.field_errors.items():
            click.echo(f"error: {field_name}: {reason}", err=True)
        raise SystemExit(2) from exc
    click.echo(f"created user {user.username} ({', '.join(sorted(roles))})")


@demo_cli.command("load")
def demo_load_command() -> None:
    """Load the demo city (idempotent: what exists is left as it is)."""
    from caseapp.demo.base import load_base
    from caseapp.demo.city import load_city

    def progress(message: str) -> None:
        click.echo(f"  {message}")

    click.echo("loading the demo base …")
    load_base(progress=progress)
    click.echo("loading the demo city (cases and ledgers, dated from today) …")
    if not load_city(progress=progress):
        click.echo("  already loaded; nothing added")
    click.echo("demo data loaded; demo accounts use the password 'demo-password'")


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
