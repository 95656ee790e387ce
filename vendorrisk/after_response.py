"""Work handed over once a request's response has gone out: the mail and the webhook messages
the request committed, sent without keeping the page waiting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, after_this_request, current_app, g


def run_after_response(key: str, run: Callable[[Flask, list[Any]], None]) -> None:
    """Once the response is sent, call `run(app, items)` with what the request gathered in
    `g.<key>` by then (nothing gathered: no call). Asked again in the same request: once."""
    scheduled = f"{key}_after_response"
    if g.get(scheduled):
        return
    setattr(g, scheduled, True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    @after_this_request
    def hand_over_on_close(response):
        items = list(g.get(key, ()))
        if items:  # the WSGI server calls this once the response is sent
            response.call_on_close(functools.partial(run, app, items))
        return response
