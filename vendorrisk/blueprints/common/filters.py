"""The roll-up's scope as a GET filter form, shared by the roll-up and the lists it links to.

Not a blueprint: the dashboard, assessments and findings pages each build their filter form on it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.widgets import Select

from vendorrisk.i18n import choices, current_locale, options
from vendorrisk.i18n.audit import label_of
from vendorrisk.i18n.labels import LABELS
from vendorrisk.models import SupplierCategory, localized_name
from vendorrisk.services.register import chain
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.vocab import Tier

TIER_CHOICES = [
    ("", _l("All tiers")),
    *((tier.value, LABELS[Tier][tier]) for tier in reversed(Tier)),
    ("none", _l("Not set")),
]


#: The last page any list may be asked for: a million pages of rows, an OFFSET far inside what
#: a 64-bit integer holds (a `?page=` past it is refused with 400 by web.refuse_hostile_input).
PAGE_MAX = 1_000_000


def page_out_of_range(args: MultiDict) -> bool:
    """Whether `?page=` asks for a page past PAGE_MAX (one that is not a number reads as page 1)."""
    for value in args.getlist("page"):
        try:
            number = int(value)
        except ValueError:  # not a number, or too many digits to read: the lists show page 1
            continue
        if number > PAGE_MAX:
            return True
    return False


def optional_int(value: Any) -> int | None:
    """A select's value as a number, or None for the empty choice."""
    return int(value) if value else None


class KnownChoiceField(SelectField):
    """A filter's select whose value reads as None when it is none of its choices, so that a view
    asking `form.status.data` never puts a value outside an enum into its query."""

    @property
    def data(self) -> Any:
        value = self.__dict__.get("_given")
        if value in (None, "") or self.choices is None:
            return value
        known = [self.coerce(c.value) for c in self._choices_from_input(self.choices) or []]
        return value if value in known else None

    @data.setter
    def data(self, value: Any) -> None:
        self.__dict__["_given"] = value


_PLAIN: dict[tuple[type, str], dict[str, list[SelectChoice]]] = {}


class _KeptSelect(Select):
    """A select over choices shared by every form of its class and language (PlainChoices):
    drawn once per choice made and kept, as the same choices and value always draw the same."""

    _drawn: ClassVar[dict[tuple, Markup]] = {}

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        key = (id(field.choices), field.id, field.name, repr(field.data), tuple(sorted(kwargs)))
        key += tuple(repr(kwargs[k]) for k in sorted(kwargs))
        drawn = self._drawn.get(key)
        if drawn is None:
            if len(self._drawn) > 10_000:  # a bound no choice of values can outgrow
                self._drawn.clear()
            drawn = self._drawn[key] = super().__call__(field, **kwargs)
        return drawn


_KEPT_SELECT = _KeptSelect()


class PlainChoices:
    """A form mixin: the choices declared on the class (labels lazily translated) are turned into
    plain strings once per language and shared by every instance, instead of each option's label
    being looked up again on every page (a list's filter form shows some 130 options). Choices
    set per instance (owners, questionnaires, groups) are left as given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key = (type(self), current_locale())
        plain = _PLAIN.get(key)
        if plain is None:
            plain = {
                name: [
                    dataclasses.replace(choice, label=str(choice.label)) for choice in field.choices
                ]
                for name, field in self._fields.items()
                if isinstance(field, SelectField)
                and isinstance(field.choices, list)
                and all(isinstance(choice, SelectChoice) for choice in field.choices)
            }
            _PLAIN[key] = plain
        for name, choices_ in plain.items():
            field = self[name]
            field.choices = choices_
            if type(field.widget) is Select and not field.render_kw:
                field.widget = _KEPT_SELECT


class ScopeFilterForm(PlainChoices, FlaskForm):
    """Category, tier, owner, questionnaire and group of the suppliers (the query string is the
    filter).

    A value that is not one of the choices is ignored rather than refused: a link or bookmark
    that has gone stale still shows a page. Every select of this form and its subclasses is bound
    as a KnownChoiceField, so that holds for `field.data` too, whatever the view reads.
    """

    class Meta:
        csrf = False

        def bind_field(self, form, unbound_field, options):
            if unbound_field.field_class is SelectField:
                unbound_field = UnboundField(
                    KnownChoiceField,
                    *unbound_field.args,
                    name=unbound_field.name,
                    **unbound_field.kwargs,
                )
            return super().bind_field(form, unbound_field, options)

    category = SelectField(
        _l("Category"), choices=options([("", _l("All categories")), *choices(SupplierCategory)])
    )
    tier = SelectField(_l("Tier"), choices=options(TIER_CHOICES))
    owner = SelectField(_l("Owner"), coerce=optional_int)
    template = SelectField(_l("Questionnaire"))
    group = SelectField(_l("Within the group or chain of"), coerce=optional_int)

    #: The fields of the scope, in the order the page shows them.
    SCOPE_FIELDS = ("category", "tier", "owner", "template", "group")

    def __init__(self, *args: Any, owners=(), templates=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lang = current_locale()
        self.owner.choices = options([("", _l("All owners")), *((u.id, u.label) for u in owners)])
        self.template.choices = options(
            [("", _l("All questionnaires")), *((t.id, t.title.get(lang)) for t in templates)]
        )
        heads = [(sid, localized_name(ja, en, lang)) for sid, ja, en in chain.group_heads()]
        self.group.choices = options([("", _l("Any")), *heads])
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
            group_id=values.get("group"),
        )

    def summary(self) -> list[str]:
        """The chosen filters in words, e.g. "Tier: Critical"."""
        values = self.valid()
        return [
            f"{self[name].label.text}: {label_of(values[name], self[name])}"
            for name in self._fields
            if name in values
        ]
