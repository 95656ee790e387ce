"""The company's own Appendix A self-assessment (自己評価) and its PDCA cycles."""

from flask import Blueprint

bp = Blueprint("selfassessment", __name__)

from vendorrisk.blueprints.selfassessment import routes  # noqa: E402,F401
from vendorrisk.blueprints.selfassessment.forms import CycleForm, ItemForm  # noqa: E402
from vendorrisk.i18n.audit import field_labels_from  # noqa: E402

field_labels_from(CycleForm, ItemForm)
