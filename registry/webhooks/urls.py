"""Where webhooks may go: no loopback, private, link-local or otherwise internal address
(server-side request forgery), unless the deployment allows it (development, tests).

A URL is checked when an endpoint is created or changed, and its name is resolved again and
checked before each delivery, which then connects to the address that was checked (a name
that resolved to a public address at creation may point inside later: DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from registry.webhooks.errors import WebhookUrlRefused

MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class Target:
    """A URL checked for delivery: its host, and the address to connect to (None: any)."""

    url: str
    host: str
    address: str | None


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _internal(address.ipv4_mapped)
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_syntax(url: str, *, allow_private: bool) -> tuple[str, int]:
    """Host and port of an http(s) URL without credentials (https only when not allowing
    private addresses, i.e. in production)."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(
            f"a URL may be at most {MAX_URL_LENGTH} characters", reason="syntax"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused("the URL is not valid", reason="syntax") from exc
    schemes = ("http", "https") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise WebhookUrlRefused(f"the URL's scheme must be {' or '.join(schemes)}", reason="scheme")
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        raise WebhookUrlRefused(
            "the URL needs a host, and no credentials or fragment", reason="syntax"
        )
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check ``url`` and, unless private addresses are allowed, resolve its host and refuse
    it when any address is internal. Returns the address to connect to."""
    host, port = check_syntax(url, allow_private=allow_private)
    if allow_private:
        return Target(url=url, host=host, address=None)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise WebhookUrlRefused(f"the host {host} does not resolve", reason="unresolvable") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise WebhookUrlRefused(f"the host {host} does not resolve", reason="unresolvable")
    for address in addresses:
        if _internal(address):
            raise WebhookUrlRefused(
                "the URL resolves to a loopback, private or link-local address",
                reason="internal-address",
            )
    return Target(url=url, host=host, address=str(addresses[0]))
