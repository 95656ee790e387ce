"""WSGI entry point: `gunicorn wsgi:app` (set VENDORRISK_ENV=production)."""

from vendorrisk import create_app

app = create_app()
