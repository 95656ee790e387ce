"""The SSRF guard: a webhook goes over https to a public address, never into the company's own
network (cloud metadata at 169.254.169.254, an admin console on 10.x, the app's own loopback),
unless its host is listed in WEBHOOK_ALLOWED_HOSTS (then plain http is allowed too).

The URL is checked when it is saved and again at each delivery, since a name's addresses may
change; the delivery connects to the very address checked (`Target.address`), so the name
cannot be pointed elsewhere between the check and the connection (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from vendorrisk.errors import ServiceError


class UnsafeURL(ServiceError):
    """A webhook URL refused, with the reason in the user's language."""


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the URL's parts and the checked address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def check(url: str) -> Target:
    """The URL's target, or UnsafeURL saying why it is refused (DNS is asked here)."""
    parts = _parts(url)
    allowed = parts.hostname in current_app.config["WEBHOOK_ALLOWED_HOSTS"]
    if parts.scheme != "https" and not (parts.scheme == "http" and allowed):
        raise UnsafeURL(_l("A webhook address must start with https://."))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port)
    if not allowed:
        for address in addresses:
            if not _public(address):
                raise UnsafeURL(
                    _l(
                        "This address leads into a private network (%(address)s); webhooks "
                        "go only to public addresses.",
                        address=address,
                    )
                )
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


def _parts(url: str):
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise UnsafeURL(_l("This is not a valid web address.")) from None
    if not parts.hostname or parts.scheme not in ("http", "https"):
        raise UnsafeURL(_l("This is not a valid web address."))
    if parts.username or parts.password:
        raise UnsafeURL(_l("A webhook address may not contain a user name or password."))
    return parts


def _resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeURL(_l("The host %(host)s could not be found.", host=host)) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise UnsafeURL(_l("The host %(host)s could not be found.", host=host))
    return addresses


def _public(address: str) -> bool:
    """Whether an address is on the public internet (not private, loopback, link-local, ...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
