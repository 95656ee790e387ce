"""Mail bodies from their templates: one mail at a time (a request), or many at once (a job).

A mail is a `Draft`: its template, language and context. `one` writes it as Flask renders any
page (render_template under the mail's language). `many` writes a periodic job's whole batch
with the same templates and the same result, cheaper: the drafts are grouped by (template,
language), each template is compiled once for its language in a mail environment of that
language (an overlay of the app's, whose gettext, `current_locale()` and date and label filters
are bound to the language instead of asking Flask-Babel on every call), the app's template
context is gathered once, and each group is rendered under one language switch. Recipients'
strings are only ever values in the context: Jinja escapes them in the HTML parts exactly as in
`one`, and no string of theirs is ever parsed as a template.

A staff mail has two templates, ``mail/<name>.txt`` and ``.html``. A letter to a supplier contact
has one, ``mail/supplier/<name>.<locale>.txt``; its HTML part is that text set as paragraphs with
the letter's own links made clickable (`letter_paragraphs`), so the two parts never say different
things. tests/mail/test_batch_rendering.py checks `many` against `one`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, render_template
from flask_babel import force_locale, get_translations
from jinja2 import Environment, Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from vendorrisk.i18n import current_locale, long_date, table_date

#: Something in a letter's text that reads as a link; only the letter's own are made clickable.
URL = re.compile(r"https?://[^\s<>\"）」]+")
LETTER_HTML = "mail/supplier/letter.html"
_OPEN, _CLOSE, _BREAK = Markup('<p style="margin:0 0 1em 0;">'), Markup("</p>"), Markup("<br>\n")
_A_OPEN, _A_MIDDLE, _A_CLOSE = Markup('<a href="'), Markup('">'), Markup("</a>")


@dataclass(frozen=True)
class Draft:
    """A mail to write: template `name` in `locale` with `context`. A letter (`letter=True`)
    has its HTML part set from its text, with `links` (its own) made clickable."""

    name: str
    locale: str
    context: dict[str, Any]
    letter: bool = False
    links: tuple[str, ...] = field(default=())

    @property
    def text_template(self) -> str:
        if self.letter:
            return f"mail/supplier/{self.name}.{self.locale}.txt"
        return f"mail/{self.name}.txt"

    @property
    def html_template(self) -> str:
        return LETTER_HTML if self.letter else f"mail/{self.name}.html"


def letter_links(*links: str | None) -> tuple[str, ...]:
    """The links of a letter that are made clickable (none empty)."""
    return tuple(link for link in links if link)


def one(draft: Draft) -> tuple[str, str]:
    """The text and HTML parts of one mail, rendered by Flask in the mail's language."""
    context = draft.context
    with force_locale(draft.locale):
        text = render_template(draft.text_template, locale=draft.locale, **context)
        if draft.letter:
            paragraphs = letter_paragraphs(text, draft.links)
            html = render_template(LETTER_HTML, locale=draft.locale, paragraphs=paragraphs)
        else:
            html = render_template(draft.html_template, locale=draft.locale, **context)
    return text, html


def many(drafts: Sequence[Draft]) -> list[tuple[str, str]]:
    """The text and HTML parts of each draft, in order, as `one` gives them: each (template,
    language) compiled once and its group rendered under one language switch."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    shared: dict[str, Any] = {}
    app.update_template_context(shared)  # the context processors, once for the batch
    groups: dict[tuple[str, str, bool], list[int]] = defaultdict(list)
    for index, draft in enumerate(drafts):
        groups[(draft.locale, draft.name, draft.letter)].append(index)
    written: list[tuple[str, str]] = [("", "")] * len(drafts)
    for (locale, _, letter), indexes in groups.items():
        language = _language(app, locale)
        first = drafts[indexes[0]]
        text_template = language.compiled(first.text_template, shared)
        html_template = language.compiled(first.html_template, shared)
        with force_locale(locale):  # what the mail environment leaves to Flask-Babel
            for index in indexes:
                draft = drafts[index]
                text = text_template.render(draft.context, locale)
                if letter:
                    paragraphs = letter_paragraphs(text, draft.links)
                    html = html_template.render({"paragraphs": paragraphs}, locale)
                else:
                    html = html_template.render(draft.context, locale)
                written[index] = (text, html)
    return written


def letter_paragraphs(text: str, links: Iterable[str]) -> list[Markup]:
    """A letter's text as HTML paragraphs: one per blank-line block, line breaks kept, and
    `links` (the letter's own: its portal link, our announcement page) made clickable. Any
    other address stays text: it may come from what a supplier typed (a name, a department)."""
    ours = {link for link in links if link}
    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return [_OPEN + _BREAK.join([_line(line, ours) for line in block.split("\n")]) + _CLOSE
            for block in blocks]  # fmt: skip


def _line(line: str, ours: set[str]) -> Markup:
    if not ours or "http" not in line:
        return escape(line)
    parts, last = [], 0
    for match in URL.finditer(line):
        link = match.group(0)
        if link not in ours:
            continue
        parts.append(escape(line[last : match.start()]))
        parts.append(_A_OPEN + link + _A_MIDDLE + link + _A_CLOSE)  # the link escaped, twice
        last = match.end()
    parts.append(escape(line[last:]))
    return Markup("").join(parts)


# The mail environment of a language


class _Compiled:
    """A template compiled in a mail environment, with the globals and the app's template
    context merged once: each mail only adds its own context (as `Template.render` does, with
    the template's globals under the mail's values)."""

    def __init__(self, template: Template, shared: dict[str, Any]) -> None:
        self.template = template
        self.base = {**template.globals, **shared}

    def render(self, context: dict[str, Any], locale: str) -> str:
        template = self.template
        values = {**self.base, **context, "locale": locale}
        try:
            return template.environment.concat(  # type: ignore[attr-defined]
                template.root_render_func(template.new_context(values, shared=True))
            )
        except Exception:
            return template.environment.handle_exception()


class _Language:
    """The app's Jinja environment as mails of one language see it: an overlay with its own
    compiled templates, where `_` and `gettext` translate with the language's catalogue (looked
    up once, not at every call), `current_locale()` is the language, and the date and label
    filters remember what they wrote (a batch writes the same few dates and labels hundreds of
    times). The rest is the app's own, rendered under the language (`force_locale`)."""

    def __init__(self, base: Environment, locale: str) -> None:
        self.loader = base.loader
        env = base.overlay(cache_size=200)
        env.globals = dict(base.globals)  # an overlay shares these dicts with its base
        env.filters = dict(base.filters)
        with force_locale(locale):
            name = current_locale()
            translate = get_translations().ugettext
        env.globals["gettext"] = env.globals["_"] = _newstyle_gettext(translate)
        env.globals["current_locale"] = lambda: name
        env.filters["longdate"] = _remembered(lambda value: long_date(value, name))
        env.filters["tabledate"] = _remembered(lambda value: table_date(value, name))
        env.filters["label"] = _remembered(base.filters["label"])
        env.get_template = _loaded_once(env.get_template)  # each {% extends %}, {% import %}
        self.env = env
        self._templates: dict[str, Template] = {}

    def compiled(self, name: str, shared: dict[str, Any]) -> _Compiled:
        found = self._templates.get(name)
        if found is None:
            found = self._templates[name] = self.env.get_template(name)
        return _Compiled(found, shared)


def _newstyle_gettext(translate: Callable[[str], str]) -> Callable[..., str]:
    """Jinja's "newstyle" gettext (what Flask-Babel installs) over one catalogue: the message
    translated, marked safe where the template escapes, then always %-formatted with the
    keyword arguments (which are escaped there)."""

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = translate(message)
        if context.eval_ctx.autoescape:  # the catalogue is ours: Jinja marks it safe too
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables

    return gettext


def _loaded_once(get_template: Callable[..., Template]) -> Callable[..., Template]:
    """`get_template` remembering what it found: a template extending or importing another
    asks for it at every render (a cache look-up, and a file check when templates reload;
    a language whose loader changes, or in debug, is built anew: see `_language`)."""
    found: dict[tuple[Any, Any], Template] = {}

    def loaded(name: Any, parent: str | None = None, globals: Any = None) -> Template:
        if globals is not None or not isinstance(name, str):
            return get_template(name, parent, globals)
        key = (name, parent)
        template = found.get(key)
        if template is None:
            template = found[key] = get_template(name, parent)
        return template

    return loaded


#: Values remembered per filter before the memory starts afresh.
_REMEMBERED = 4096


def _remembered(write: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`write`, remembering its result by the value's type and value (an enum member and its
    string are different labels)."""
    memory: dict[tuple[type, Any], Any] = {}

    def remembered(value: Any) -> Any:
        try:
            key = (type(value), value)
            return memory[key]
        except KeyError:
            if len(memory) >= _REMEMBERED:
                memory.clear()
            memory[key] = result = write(value)
            return result
        except TypeError:  # an unhashable value
            return write(value)

    return remembered


def _language(app: Flask, locale: str) -> _Language:
    """The mail environment of a language, built once per app (again for every batch while
    templates reload, and when the loader changed)."""
    languages: dict[str, _Language] = app.extensions.setdefault("vendorrisk.mail_languages", {})
    found = languages.get(locale)
    base = app.jinja_env
    if found is None or found.loader is not base.loader or app.debug or base.auto_reload:
        found = languages[locale] = _Language(base, locale)
    return found
