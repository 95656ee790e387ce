"""The supplier register: procurement's daily tool."""

from flask import Blueprint

bp = Blueprint("suppliers", __name__)

from vendorrisk.blueprints.suppliers import (  # noqa: E402,F401
    cells,
    imports,
    offboarding,
    proposals,
    routes,
)
from vendorrisk.blueprints.suppliers.forms import (  # noqa: E402
    AttestationForm,
    ContactForm,
    ContractForm,
    SupplierForm,
)
from vendorrisk.i18n.audit import field_labels_from  # noqa: E402

# The Direction 9 cells of the list and the supplier page (cells.py), for every template.
bp.add_app_template_global(cells, "d9_cells")
field_labels_from(SupplierForm, ContactForm, ContractForm, AttestationForm)
