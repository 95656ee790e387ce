"""The roll-up's scope as a GET filter form, shared by the roll-up and the lists it links to.

Not a blueprint: the dashboard, assessments and findings pages each build their filter form on it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from vendorrisk.i18n import choices, current_locale, options
from vendorrisk.i18n.audit import label_of
from vendorrisk.i18n.labels import LABELS
from vendorrisk.models import SupplierCategory
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.vocab import Tier

TIER_CHOICES = [
    ("", _l("All tiers")),
    *((tier.value, LABELS[Tier][tier]) for tier in reversed(Tier)),
    ("none", _l("Not set")),
]


def optional_int(value: Any) -> int | None:
    """A select's value as a number, or None for the empty choice."""
    return int(value) if value else None


class ScopeFilterForm(FlaskForm):
    """Category, tier, owner and questionnaire of the suppliers (the query string is the filter).

    A value that is not one of the choices is ignored rather than refused: a link or bookmark
    that has gone stale still shows a page.
    """

    class Meta:
        csrf = False

    category = SelectField(
        _l("Category"), choices=options([("", _l("All categories")), *choices(SupplierCategory)])
    )
    tier = SelectField(_l("Tier"), choices=options(TIER_CHOICES))
    owner = SelectField(_l("Owner"), coerce=optional_int)
    template = SelectField(_l("Questionnaire"))

    #: The fields of the scope, in the order the page shows them.
    SCOPE_FIELDS = ("category", "tier", "owner", "template")

    def __init__(self, *args: Any, owners=(), templates=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lang = current_locale()
        self.owner.choices = options([("", _l("All owners")), *((u.id, u.label) for u in owners)])
        self.template.choices = options(
            [("", _l("All questionnaires")), *((t.id, t.title.get(lang)) for t in templates)]
        )
        self._valid: dict[str, Any] | None = None

    def valid(self) -> dict[str, Any]:
        """The non-empty values of the query string that are among the choices, by field."""
        if self._valid is None:
            self.validate()
            self._valid = {
                f.name: f.data
                for f in self
                if f.name != "csrf_token" and not f.errors and f.data not in (None, "")
            }
        return self._valid

    def scope(self) -> Scope:
        values = self.valid()
        return Scope(
            category=values.get("category", ""),
            tier=values.get("tier", ""),
            owner_id=values.get("owner"),
            template=values.get("template", ""),
        )

    def summary(self) -> list[str]:
        """The chosen filters in words, e.g. "Tier: Critical"."""
        values = self.valid()
        return [
            f"{self[name].label.text}: {label_of(values[name], self[name])}"
            for name in self._fields
            if name in values
        ]
