from flask import render_template, request

from vendorrisk import clock
from vendorrisk.access import READERS, access
from vendorrisk.blueprints.dashboard import bp, presenter
from vendorrisk.blueprints.dashboard.forms import RollupFilterForm
from vendorrisk.catalog import catalog
from vendorrisk.i18n import current_locale
from vendorrisk.models import Criticality, SupplierStatus
from vendorrisk.scoring.tiers import DEFAULT_TEMPLATE
from vendorrisk.services.register import suppliers
from vendorrisk.services.reporting import areas, overview, rollup, scope


@bp.route("/")
@access(read=READERS)
def index():
    return render_template(
        "dashboard/index.html",
        summary=overview.register_summary(clock.today()),
        statuses=list(SupplierStatus),
        criticalities=list(reversed(Criticality)),
    )


def filter_form() -> RollupFilterForm:
    """The roll-up's filters from the query string (also used by its export)."""
    return RollupFilterForm(
        request.args,
        owners=suppliers.owners(),
        templates=[t for t in catalog().current() if t.audience == "supplier"],
    )


@bp.route("/rollup", endpoint="rollup")
@access(read=READERS)
def rollup_page():
    """The CISO's supply-chain roll-up: every panel under the same filters."""
    form = filter_form()
    chosen = form.scope()
    template = catalog().get(chosen.template or DEFAULT_TEMPLATE)
    data = rollup.compute(clock.today(), chosen)
    labels = presenter.Labels(areas.directive_titles(template, current_locale()))
    return render_template(
        "dashboard/rollup.html",
        form=form,
        rollup=data,
        labels=labels,
        charts=presenter.charts(data, labels),
        ages=list(scope.FINDING_AGES),
    )
