"""`vendorrisk seed-demo`: a plugin command of the `vendorrisk` group (a FlaskGroup), found
through the `flask.commands` entry point, so that the application itself never imports the demo."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import Supplier
from vendorrisk.services import audit


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when suppliers already exist.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load a realistic demo register and print the admin login it created."""
    # Imported here: FlaskGroup loads this module for every `vendorrisk` command.
    from vendorrisk.demo.seed import load_demo

    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(Supplier)):
        return
    with audit.acting_as(audit.Actor(type="system", label="seed-demo")):
        logins = load_demo(clock.today())
        db.session.commit()
    click.echo("Demo data loaded. Logins (one-time passwords, to be changed at first login):")
    for email, role, password in logins:
        click.echo(f"  {role:<12} {email:<32} {password}")
