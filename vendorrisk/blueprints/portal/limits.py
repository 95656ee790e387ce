"""The rate limit of the portal's Excel upload, kept per emailed link rather than per address.

Each uploaded workbook is unzipped and read, so one sitting could keep a worker busy by posting
files in a loop from many addresses; and a new sitting opened from the same link must not start
the count again. The key is therefore the link (the invitation) behind the sitting.
"""

from __future__ import annotations

from flask import current_app, g
from flask_limiter.util import get_remote_address


def excel_rate_limit() -> str:
    """How many Excel files one link's sittings may upload (PORTAL_EXCEL_RATE_LIMIT)."""
    return current_app.config["PORTAL_EXCEL_RATE_LIMIT"]


def per_link() -> str:
    """The rate-limit key of the sitting's link; its address when there is no sitting."""
    invitation = g.get("portal")
    return f"portal-link:{invitation.id}" if invitation is not None else get_remote_address()
