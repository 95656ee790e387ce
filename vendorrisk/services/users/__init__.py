"""Staff accounts: who may log in, with what, and for how long.

`accounts` (users, passwords, one-time passwords), `sessions` (server-side login sessions),
`second_factor` (TOTP codes, recovery codes, who must use them), `passwords` (the
password policy), `logins` (one login attempt), `throttle` (the delay after failed logins),
`reset` (password reset by e-mail).
"""
