"""The supplier register: procurement's daily tool."""

from flask import Blueprint

bp = Blueprint("suppliers", __name__)

from vendorrisk.blueprints.suppliers import (  # noqa: E402,F401
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

field_labels_from(SupplierForm, ContactForm, ContractForm, AttestationForm)
