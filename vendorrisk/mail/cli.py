"""`vendorrisk outbox`: the mail outbox from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from vendorrisk.mail.outbox import deliver_pending
from vendorrisk.services import audit


@click.group("outbox")
def outbox_group() -> None:
    """The mail outbox."""


@outbox_group.command("deliver")
@click.option("--limit", default=200, show_default=True, help="Most messages to send.")
@with_appcontext
def deliver_command(limit: int) -> None:
    """Deliver pending mail now."""
    with audit.acting_as(audit.Actor(type="system", label="cli")):
        report = deliver_pending(limit=limit)
    click.echo(f"sent {report.sent}, retried {report.retried}, failed {report.failed}")
