from flask import render_template

from vendorrisk import clock
from vendorrisk.access import READERS, access
from vendorrisk.blueprints.dashboard import bp
from vendorrisk.models import Criticality, SupplierStatus
from vendorrisk.services import overview


@bp.route("/")
@access(read=READERS)
def index():
    return render_template(
        "dashboard/index.html",
        summary=overview.register_summary(clock.today()),
        statuses=list(SupplierStatus),
        criticalities=list(reversed(Criticality)),
    )
