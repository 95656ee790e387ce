"""Staff accounts: who may log in, with what, and for how long.

`accounts` (users, passwords, one-time passwords), `sessions` (server-side login sessions).
"""
