"""vendorrisk: supply-chain security questionnaires and vendor risk (METI/IPA CSM v2.0)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from vendorrisk.config import INSTANCE_DIR, Config, load_config


def create_app(config: Config | None = None) -> Flask:
    """Build the application: a table of contents, doing no database or network work."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_object(config or load_config())
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)  # the embedded SQLite lives here
    from vendorrisk import (
        access,
        catalog,
        cli,
        errors,
        health,
        i18n,
        idempotency,
        scoping,
        sso,
        web,
    )
    from vendorrisk.blueprints.common import unit_of_work
    from vendorrisk.extensions import csrf, db, limiter, migrate
    from vendorrisk.services.reporting import cache as figures

    db.init_app(app)
    figures.init_app(app)  # the roll-up's kept figures, and the writes that make them stale
    migrate.init_app(app, db, directory=str(INSTANCE_DIR.parent / "migrations"))
    web.guard_origin(app)  # first: a request from another site is refused before anything else
    access.register(app)  # before CSRF: an unauthorised request is refused, not asked for a token
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    idempotency.init_app(app)  # after CSRF and access: only a sound request uses a key
    catalog.init_app(app)
    sso.init_app(app)  # the OpenID provider's client, when one is configured (no request made)
    register_blueprints(app)
    unit_of_work.init_app(app)  # after the blueprints: each of their views commits once
    health.init_app(app)
    errors.init_app(app)
    scoping.init_app(app)  # after errors: an out-of-scope 404 is named before it is recorded
    cli.init_app(app)
    return app


def register_blueprints(app: Flask) -> None:
    from vendorrisk.blueprints import (
        admin,
        api,
        assessments,
        auth,
        dashboard,
        portal,
        selfassessment,
        suppliers,
    )

    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(dashboard.bp, url_prefix="/")
    app.register_blueprint(suppliers.bp, url_prefix="/suppliers")
    app.register_blueprint(assessments.bp)
    app.register_blueprint(portal.bp, url_prefix="/portal")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(selfassessment.bp, url_prefix="/self-assessment")
    api.init_app(app)  # /api/v1 and its OpenAPI document
