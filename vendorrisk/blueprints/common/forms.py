"""Small helpers for the forms of every blueprint."""

from flask import flash
from flask_wtf import FlaskForm


def flash_errors(form: FlaskForm) -> None:
    """Flash every field's errors as one message (for a form posted from another page)."""
    flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
