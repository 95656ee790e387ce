"""The password policy: long enough, not a leaked or easily guessed one, not the user's own name.

Common and leaked passwords are found offline with zxcvbn (Dropbox's estimator, the PyPI
package `zxcvbn`): it ships its frequency lists — the 30,000 most used passwords of the leaked
Xato corpus, English words, names — and estimates how many guesses a password falls to from
them, with their l33t, reversed, repeated and date/sequence variants (`password1234`,
`P@ssw0rd1234`, `123456789012`, `qwertyuiop12`). A list match alone would pass those variants.
A password guessed in fewer than 10^8 tries (zxcvbn score below 3) is refused (ASVS 6.2.4,
6.2.12); so is one holding the email's local part, and the user's own words are given to zxcvbn
as context (6.2.11). No composition rules (6.2.5).
"""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 12
#: zxcvbn's score: 3 is "safely unguessable: moderate protection from offline slow-hash
#: scenario" (at least 10^8 guesses).
MIN_SCORE = 3
#: zxcvbn refuses longer input (its matching grows fast with length); the rest only adds.
_ESTIMATED_PREFIX = 72
#: A local part this short ("ab@…") is no word to keep out of a password.
_MIN_OWN_WORD = 3

TOO_SHORT = _l("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH)
TOO_COMMON = _l(
    "This password is too common or too easy to guess: it is on lists of leaked passwords or "
    "made of well-known words and patterns. Choose a longer phrase of unrelated words."
)
HOLDS_EMAIL = _l("The password must not contain your email address or its first part.")


def _own_words(email: str, name: str) -> list[str]:
    """Words of this user and this product that a guesser tries first."""
    local = email.partition("@")[0]
    words = [email, local, *local.replace("_", ".").replace("-", ".").split("."), *name.split()]
    words.append("vendorrisk")
    if has_app_context():  # the hash of a fixed password may be made before any app
        words += [current_app.config["COMPANY_NAME_EN"], current_app.config["COMPANY_NAME_JA"]]
    return [word for word in words if word]


def problem(password: str, email: str = "", name: str = ""):
    """Why `password` is refused for the user with `email` and `name`, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return TOO_SHORT
    local = email.strip().lower().partition("@")[0]
    if len(local) >= _MIN_OWN_WORD and local in password.lower():
        return HOLDS_EMAIL
    estimate = zxcvbn(password[:_ESTIMATED_PREFIX], user_inputs=_own_words(email.lower(), name))
    if estimate["score"] < MIN_SCORE:
        return TOO_COMMON
    return None
