"""The production shape end to end (`make e2e`): gunicorn over TLS, PostgreSQL, Redis, SMTP."""
