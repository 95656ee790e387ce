"""Logs without emailed links: a link's token in a log opens what the link opens.

The portal's links (`/portal/<token>`, `/portal/e/<token>`, `/portal/erasure/<token>` and
`/portal/<token>/renew`) carry their secret in the path, so every access log would keep it.
`Logger` is gunicorn's logger with each line's tokens replaced by `[link]` (access and error log
alike); `install` puts the same filter on the app's own loggers (the development server's request
lines). gunicorn reads `logger_class` from gunicorn.conf.py in the project folder; with another
configuration file, pass `--logger-class vendorrisk.gunicorn_logging.Logger`.

Proxies in front of the app log the path too, out of our reach: the portal itself limits what a
logged link can still do (`services.assessments.portal.may_open`).
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as _GunicornLogger

_EVIDENCE = re.compile(r"(/portal/(?:e|erasure)/)[^/?#\s\"']+")
#: Any first segment under /portal/ but the pages' own (q/, e/, erasure/, finished).
_LINK = re.compile(r"(/portal/)(?!(?:q|e|erasure|finished)(?=[/?#\s\"']|$))[^/?#\s\"']+")
#: What a token is replaced by.
HIDDEN = "[link]"


def redact(text: str) -> str:
    """The text with every portal and evidence link token replaced by [link]."""
    if "/portal/" not in text:
        return text
    return _LINK.sub(rf"\g<1>{HIDDEN}", _EVIDENCE.sub(rf"\g<1>{HIDDEN}", text))


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) without link tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def _add_filter(logger: logging.Logger) -> None:
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


class Logger(_GunicornLogger):
    """gunicorn's logger, writing no link tokens (`logger_class` in gunicorn.conf.py)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            _add_filter(logger)


def install() -> None:
    """Filter the app's own loggers that write request paths (the development server's)."""
    for name in ("werkzeug", "vendorrisk", "flask.app"):
        _add_filter(logging.getLogger(name))
