"""The demo: fictional users, suppliers, reviews and history for trying the application out.

Imported only by the `seed-demo` command (demo/cli.py, registered through the `flask.commands`
entry point in pyproject.toml) and by tests; nothing in the application imports it.
"""
