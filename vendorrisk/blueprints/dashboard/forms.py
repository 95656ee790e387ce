from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from vendorrisk.blueprints.common.filters import ScopeFilterForm


class RollupFilterForm(ScopeFilterForm):
    """The roll-up's filters: they apply to every panel and go into every link."""

    template = SelectField(_l("Questionnaire of the latest completed assessment"))
