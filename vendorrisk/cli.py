"""The `vendorrisk` command: a Flask CLI group bound to create_app, grouped by noun."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from vendorrisk import clock
from vendorrisk.catalog import Catalog
from vendorrisk.extensions import db
from vendorrisk.models import Role
from vendorrisk.services import audit
from vendorrisk.services.reporting import exports
from vendorrisk.services.users import accounts
from vendorrisk.vocab import LOCALES, Locale


def _create_app():
    from vendorrisk import create_app

    return create_app()


# FlaskGroup also adds the `flask.commands` entry points of pyproject.toml: `seed-demo` lives
# in vendorrisk/demo/cli.py, so that the application itself never loads the demo.
@click.group(cls=FlaskGroup, create_app=_create_app)
def cli() -> None:
    """vendorrisk: supply-chain security questionnaires and vendor risk."""


@click.command("create-user")
@click.option("--email", required=True, help="Login email address.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="", help="Display name.")
@with_appcontext
def create_user_command(email: str, role: str, name: str) -> None:
    """Create a user and print a one-time password."""
    with audit.acting_as(audit.Actor(type="system", label="cli")):
        try:
            user, password = accounts.create_user(email, role, name)
        except accounts.UserError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")
    click.echo(f"One-time password: {password}")
    click.echo("It must be changed at the first login.")


@click.group("questionnaires")
def questionnaires_group() -> None:
    """Questionnaire templates."""


@questionnaires_group.command("validate")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def validate_command(folder: Path | None) -> None:
    """Validate every template; exit 1 listing each problem."""
    loaded = Catalog.from_folder(folder or current_app.config["QUESTIONNAIRE_DIR"])
    for template in loaded.current():
        pack = f" ({template.pack} pack)" if template.audience == "supplier" else ""
        scored = sum(q.scored for q in template.questions)
        unmapped = [q.id for q in template.questions if not q.mapping.item]
        click.echo(
            f"ok    {template.key}{pack}: {len(template.questions)} questions ({scored} scored) "
            f"in {len(template.sections)} sections; {len(unmapped)} mapped to a direction only"
        )
    for crosswalk in loaded.crosswalks:
        click.echo(
            f"ok    {crosswalk.id}: {crosswalk.source_template} -> {crosswalk.target_template}, "
            f"{len(crosswalk.rows)} rows"
        )
    for error in loaded.errors:
        click.echo(f"error {error.path}", err=True)
        for problem in error.problems:
            click.echo(f"      - {problem}", err=True)
    if loaded.errors:
        sys.exit(1)


@questionnaires_group.command("import-text")
@click.argument("template_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--locale", type=click.Choice(LOCALES), default=Locale.en.value, help="Message language."
)
@with_appcontext
def import_text_command(template_id: str, file: Path, locale: str) -> None:
    """Replace working translations (仮訳) of TEMPLATE_ID with the official Japanese text in FILE
    (.csv or .xlsx; a header row, then item id such as D5-7 or P2-3, or D1 … D10 / P1 … P3
    for a direction's or principle's title, and its Japanese text); written as the template's
    next version. Exit 1 on errors."""
    from flask_babel import force_locale

    from vendorrisk.catalog import CatalogError, catalog
    from vendorrisk.services import official_text
    from vendorrisk.services.register.imports import files

    with force_locale(locale), audit.acting_as(audit.Actor(type="system", label="cli")):
        template = catalog().get(template_id)
        if template is None:
            raise click.ClickException(f"{template_id}: no such questionnaire template")
        try:
            table = files.read_table(
                file.read_bytes(), file.name, current_app.config["MAX_UPLOAD_BYTES"]
            )
            texts = official_text.read_texts(table, template)
            written = official_text.write_version(template, texts, file.name)
        except files.FileRefused as exc:
            raise click.ClickException(str(exc)) from exc
        except (official_text.TextImportError, CatalogError) as exc:
            for problem in exc.problems:
                click.echo(f"error {problem}", err=True)
            click.echo("Nothing was written.", err=True)
            sys.exit(1)
        audit.record(
            "template_text_imported",
            summary=f"{written.template_key}: {written.replaced} official text(s) from {file.name}",
        )
        db.session.commit()
    click.echo(
        f"Wrote {written.path.name} ({written.template_key}): {written.replaced} text(s) now "
        "official. Running workers load it within a second."
    )


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduled jobs in this process (a second one waits as a standby)."""
    from vendorrisk import jobs

    jobs.lead(current_app._get_current_object(), lambda line: click.echo(line, err=True))


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """The development server with the scheduler running inside it (`make run`)."""
    import threading

    from werkzeug.serving import run_simple

    from vendorrisk import jobs

    app = current_app._get_current_object()

    def scheduler() -> None:
        with app.app_context():
            jobs.lead(app, click.echo)

    threading.Thread(target=scheduler, name="vendorrisk-scheduler", daemon=True).start()
    click.echo(f"Serving on http://{host}:{port} (the scheduler runs in this process)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@click.group("jobs")
def jobs_group() -> None:
    """Scheduled jobs."""


@jobs_group.command("list")
@with_appcontext
def jobs_list_command() -> None:
    """Show each job, its next and last run and its last result."""
    from vendorrisk import jobs

    now = clock.now()
    runs = jobs.last_runs()
    zone = current_app.config["TIMEZONE"]
    for job in jobs.JOBS:
        last = runs.get(job.id)
        upcoming = jobs.next_run(job, now, zone)
        done = "never run"
        if last:
            result = last.summary or last.error
            done = f"last {last.started_at:%Y-%m-%d %H:%M} UTC {last.outcome}: {result}"
        click.echo(f"{job.id:<14} next {upcoming:%Y-%m-%d %H:%M %Z}  {done}")


@jobs_group.command("run")
@click.argument("name")
@click.option("--now", "now_text", default=None, help="ISO date-time to run for (default: now).")
@with_appcontext
def jobs_run_command(name: str, now_text: str | None) -> None:
    """Run one job now."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from vendorrisk import jobs

    if name not in jobs.JOB_BY_ID:
        raise click.BadParameter(
            f"unknown job; one of {', '.join(jobs.JOB_BY_ID)}", param_hint="NAME"
        )
    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from exc
        if now.tzinfo is None:
            now = now.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    run = jobs.run_job(name, now)
    click.echo(f"{name}: {run.outcome} {run.summary or run.error}")
    if run.outcome == "failed":
        sys.exit(1)


@click.command("export")
@click.argument("kind", type=click.Choice(exports.KINDS))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_command(kind: str, file: Path) -> None:
    """Export suppliers, assessments, answers, findings, the roll-up or the self-assessment."""
    fmt = file.suffix.lower().lstrip(".")
    if fmt not in exports.FORMATS:
        raise click.BadParameter("the file name must end in .csv or .xlsx", param_hint="FILE")
    rows = exports.write_kind(kind, clock.today(), str(file), fmt)
    click.echo(f"Wrote {rows} rows to {file}")


@click.command("import-suppliers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows, skip the invalid ones.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; save nothing.")
@click.option(
    "--locale", type=click.Choice(LOCALES), default=Locale.en.value, help="Message language."
)
@with_appcontext
def import_suppliers_command(file: Path, skip_invalid: bool, dry_run: bool, locale: str) -> None:
    """Import suppliers and contacts from FILE (.csv or .xlsx); exit 1 on errors (2 if skipped)."""
    from flask_babel import force_locale

    from vendorrisk.services.register.imports import columns, files, planning, preview, writing

    with force_locale(locale), audit.acting_as(audit.Actor(type="system", label="cli")):
        max_rows = current_app.config.get("IMPORT_MAX_ROWS", files.MAX_ROWS)
        try:
            table = files.read_table(
                file.read_bytes(), file.name, current_app.config["MAX_UPLOAD_BYTES"], max_rows
            )
            mapping = columns.guess_mapping(table.headers)
            for header, key in zip(table.headers, mapping, strict=True):
                if key is None:
                    click.echo(preview.ignored_column(header), err=True)
            plan = planning.plan(table, mapping, skip_invalid=skip_invalid)
        except (files.FileRefused, columns.MappingRefused) as exc:
            raise click.ClickException(str(exc)) from exc
        for error in plan.errors:
            click.echo(preview.error_line(error), err=True)
        if not plan.can_apply:
            click.echo(preview.nothing_imported(), err=True)
            sys.exit(1)
        summary = writing.apply(plan, clock.now(), file.name)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        for line in preview.summary_lines(summary, dry_run):
            click.echo(line)
    sys.exit(2 if plan.errors else 0)


@click.group("rollup")
def rollup_group() -> None:
    """The CISO's roll-up: stored area scores and quarterly snapshots."""


@rollup_group.command("backfill")
@with_appcontext
def rollup_backfill_command() -> None:
    """Store the area scores of completed assessments that have none."""
    from vendorrisk.services.reporting import history

    done = history.backfill_area_scores()
    db.session.commit()
    click.echo(f"Area scores stored for {done} assessments.")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write the database and the evidence files to FILE (.tar.gz) with a manifest."""
    from vendorrisk import backup

    try:
        made = backup.create(file, clock.now())
    except backup.BackupError as exc:
        click.echo(f"Backup failed: {exc}", err=True)
        sys.exit(1)
    for warning in made.warnings:
        click.echo(f"warning: {warning}", err=True)
    with audit.acting_as(audit.Actor(type="system", label="cli")):
        audit.record("backup", summary=f"{file.name}: {backup.describe(made.manifest)}")
        db.session.commit()
    click.echo(f"Wrote {file} ({file.stat().st_size} bytes): {backup.describe(made.manifest)}.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the data without asking.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database and the evidence files with FILE's, checked first; exit 1 if refused."""
    from vendorrisk import backup, jobs

    def confirm(manifest: dict) -> bool:
        click.echo(f"{file} is sound: {backup.describe(manifest)}.")
        return yes or click.confirm("Replace this installation's database and files with it?")

    with jobs.exclusive("scheduler") as free:  # and no scheduler starts while we restore
        try:
            if not free:
                raise backup.BackupError("the scheduler lock is held (`vendorrisk scheduler` or "
                                         "`serve` runs, or the database does not answer): stop "
                                         "the scheduler and the web workers first")  # fmt: skip
            manifest = backup.restore(file, confirm)
        except backup.BackupError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    if manifest is None:
        click.echo("Nothing was changed.", err=True)
        sys.exit(1)
    with audit.acting_as(audit.Actor(type="system", label="cli")):
        audit.record("restore", summary=f"{file.name}: {backup.describe(manifest)}")
        db.session.commit()
    click.echo(f"Restored {file}: {backup.describe(manifest)}.")


def init_app(app: Flask) -> None:
    from vendorrisk.mail.cli import outbox_group

    for command in (
        create_user_command,
        questionnaires_group,
        outbox_group,
        scheduler_command,
        serve_command,
        jobs_group,
        export_command,
        import_suppliers_command,
        rollup_group,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
