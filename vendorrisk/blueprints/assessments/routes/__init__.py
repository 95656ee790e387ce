"""The assessment pages under one blueprint, split by audience: questionnaires (the catalog),
sending (procurement sends and follows its links), review (reviewers) and findings."""

from vendorrisk.blueprints.assessments.routes import (  # noqa: F401
    findings,
    questionnaires,
    review,
    sending,
)
