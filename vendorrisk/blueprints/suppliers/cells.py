"""Direction 9 facts as the supplier list and the supplier page show them: colour AND text.

Python rather than Jinja macros because the list draws eleven of them on each of its fifty
rows: a macro call and a gettext lookup per cell cost the page more than its SQL. Here every
word is translated once per language (`_words`) and each cell is one format string. Templates
call them through the `d9_cells` global; the list draws each row whole (`list_row`).
"""

from __future__ import annotations

from datetime import date

from flask import g
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from vendorrisk.i18n import current_locale
from vendorrisk.i18n.labels import CLAUSE_LABELS, LABELS, label, level_abbreviation, level_name
from vendorrisk.models.supplier import Supplier, SupplierCategory, SupplierStatus
from vendorrisk.services.register.d9 import D9Status
from vendorrisk.services.register.scs import LevelState
from vendorrisk.vocab import Tier

#: Every word a cell may show, translated once per language.
_TEXTS = {
    "none": _l("none"),
    "expired": _l("Expired"),
    "soon": _l("Expiring soon"),
    "isms_instead": _l("Not needed: holds ISMS certification"),
    "no_contract": _l("No contract in force"),
    "missing": _l("Missing:"),
    "below": _l("Below required"),
    "not_evaluated": _l("Not yet evaluated"),
    "interim_short": _l("Interim (ISMS)"),
    "meets": _l("Meets"),
    "n_open": _l("%(n)d open"),
    "overdue": _l("Overdue"),
    "not_assessed": _l("Not assessed"),
    "need": _l("%(required)s required (now: %(held)s)"),
    "scheme_not_started": _l("Not yet evaluated (scheme not started)"),
    "interim_long": _l("Interim: ISMS covering the service"),
}

_WORDS: dict[str, dict[str, str]] = {}


def _words() -> dict[str, str]:
    """_TEXTS in the current language (built at the first use of each language; looked up once
    per request)."""
    words = g.get("d9_words")
    if words is not None:
        return words
    lang = current_locale()
    words = _WORDS.get(lang)
    if words is None:
        words = {key: str(text) for key, text in _TEXTS.items()}
        words.update({f"tier:{tier.value}": str(name) for tier, name in LABELS[Tier].items()})
        words["tier:"] = "—"
        words.update({f"clause:{name}": str(text) for name, text in CLAUSE_LABELS.items()})
        for prefix, kind in (("category", SupplierCategory), ("status", SupplierStatus)):
            words.update({f"{prefix}:{value}": str(text) for value, text in LABELS[kind].items()})
        _WORDS[lang] = words
    g.d9_words = words
    return words


def _html(template: str, *values: object) -> Markup:
    """`template`, a literal of this module, with each value escaped (Markup kept as it is):
    str.format over escaped values, several times faster than Markup's own % per cell."""
    return Markup(template.format(*(escape(v) for v in values)))  # noqa: S704  # nosec B704


def _date(day: date) -> str:
    return day.isoformat()  # as the `localdate` filter shows a day


def until(d9: D9Status, day: date | None) -> Markup:
    """An expiry date with its state: none, expired, expiring soon, or valid."""
    state = d9.state(day)
    w = _words()
    if state == "missing":
        return _html('<span class="badge muted">{}</span>', w["none"])
    if state == "expired":
        return _html(
            '<span class="badge bad">{}</span> <small>{}</small>', w["expired"], _date(day)
        )
    if state == "soon":
        return _html('<span class="badge warn">{}</span> <small>{}</small>', w["soon"], _date(day))
    return _html('<span class="ok">{}</span>', _date(day))


def security_action(d9: D9Status) -> Markup:
    """The SECURITY ACTION declaration in force, or why none is needed."""
    w = _words()
    if d9.security_action == "none":
        if d9.state(d9.isms_until) in ("valid", "soon"):
            return _html('<span class="muted">{}</span>', w["isms_instead"])
        return _html('<span class="badge muted">{}</span>', w["none"])
    stars = "★★" if d9.security_action == "star2" else "★"
    cell = _html('<span class="badge good">{}</span>', stars)
    if d9.security_action_id:
        cell += _html(" <small>{}</small>", d9.security_action_id)
    return cell


def clauses(d9: D9Status) -> Markup:
    """The contract clauses present out of seven, the missing ones in the title."""
    w = _words()
    if not d9.has_contract:
        return _html('<span class="badge bad">{}</span>', w["no_contract"])
    if not d9.missing_clauses:
        return _html('<span class="badge good">{}/7</span>', d9.clauses)
    colour = "bad" if d9.clauses == 0 else "warn"
    missing = ", ".join(w[f"clause:{name}"] for name in d9.missing_clauses)
    title = f"{w['missing']} {missing}"
    return _html('<span class="badge {}" title="{}">{}/7</span>', colour, title, d9.clauses)


def short_level(level: str) -> Markup:
    """A level in a narrow column, its name in the title (drawn once per language)."""
    w = _words()
    key = f"abbr:{level}"
    found = w.get(key)
    if found is None:
        found = w[key] = _html(
            '<abbr title="{}">{}</abbr>', level_name(level), level_abbreviation(level)
        )
    return Markup(found)  # noqa: S704  # nosec B704 (drawn by _html above)


def level_state(state: str, required: str, held: str) -> Markup:
    """Where a supplier stands against the SCS level asked: what is needed and what it holds,
    never a count of steps; before the scheme runs a shortfall is "not yet evaluated", not an
    alarm."""
    w = _words()
    if state not in (LevelState.short, LevelState.not_running, LevelState.interim):
        return _html('<span class="badge good">{}</span>', w["meets"])
    held_short = w["none"] if not held or held == "none" else level_abbreviation(held)
    need = w["need"] % {"required": level_abbreviation(required), "held": held_short}
    if state == LevelState.short:
        return _html('<span class="badge bad">{}</span>', need)
    note = "scheme_not_started" if state == LevelState.not_running else "interim_long"
    colour = "muted" if state == LevelState.not_running else "warn"
    return _html('<span class="badge {}">{}</span><br><small>{}</small>', colour, need, w[note])


def level_gap(d9: D9Status) -> Markup:
    """The list's narrow column: required / held beside it already, so the state alone."""
    w = _words()
    badge = {
        LevelState.short: ("bad", "below"),
        LevelState.not_running: ("muted", "not_evaluated"),
        LevelState.interim: ("warn", "interim_short"),
    }.get(d9.level_state, ("good", "meets"))
    return _html('<span class="badge {}">{}</span>', badge[0], w[badge[1]])


def findings(d9: D9Status) -> Markup:
    if d9.open_findings:
        return _html(
            '<span class="badge warn">{}</span>', _words()["n_open"] % {"n": d9.open_findings}
        )
    return Markup('<span class="muted">0</span>')


def next_review(supplier: Supplier, today: date) -> Markup:
    day = supplier.next_review_on
    if not day:
        return Markup('<span class="muted">—</span>')
    if day < today:
        return _html(
            '<span class="badge bad">{}</span> <small>{}</small>', _words()["overdue"], _date(day)
        )
    return escape(_date(day))


def score(supplier: Supplier) -> Markup:
    if supplier.latest_score is None:
        return _html('<span class="muted">{}</span>', _words()["not_assessed"])
    cell = escape(f"{supplier.latest_score:.1f}")
    if supplier.latest_score_on:
        cell += _html(" <small>{}</small>", _date(supplier.latest_score_on))
    return cell


def tier(supplier: Supplier) -> Markup:
    if not supplier.tier:
        return Markup('<span class="muted">—</span>')
    return _html(
        '<span class="badge crit-{}">{}</span>',
        supplier.tier,
        _words().get(f"tier:{supplier.tier}", supplier.tier),
    )


def list_row(supplier: Supplier, d9: D9Status, today: date, lang: str, url: str) -> Markup:
    """One row of the supplier list, `url` its supplier page: drawn here whole, the list's fifty
    rows cost one call each instead of a dozen template calls."""
    s = supplier
    other = (s.name_en if lang == "ja" else s.name_ja if lang == "en" else "") if s.name_en else ""
    w = _words()
    meta = f"{w.get(f'category:{s.category}') or label(s.category)} · "
    meta += w.get(f"status:{s.status}") or label(s.status)
    if s.corporate_number:
        meta += f" · {s.corporate_number}"
    cells = (
        tier(s),
        score(s),
        _html("{} / {} {}", short_level(d9.required), short_level(d9.held), level_gap(d9)),
        security_action(d9),
        until(d9, d9.isms_until),
        until(d9, d9.pmark_until),
        until(d9, d9.insurance_until),
        clauses(d9),
        findings(d9),
        next_review(s, today),
        escape(s.owner.label if s.owner else "—"),
    )
    name = _html('<td class="name"><a href="{}">{}</a>', url, s.name_for(lang))
    if other:
        name += _html("<br><small>{}</small>", other)
    name += _html('\n        <br><small class="muted">{}</small></td>', meta)
    row = "".join(f"\n      <td>{c}</td>" for c in cells)  # each cell already Markup
    return Markup("<tr>\n      ") + name + Markup(row)  # noqa: S704  # nosec B704
