"""Where a webhook may go: public addresses only, checked after DNS resolution.

A film's owner names the webhook URL, and the server calls it: without a check a
user could make the server reach loopback, the private network, link-local
addresses or the cloud metadata service (169.254.169.254, fd00:ec2::254). Every
address the name resolves to must be public; the caller then connects to the
address that was checked (not to the name again: a second lookup could answer
differently), and redirects are never followed. An operator whose receivers are
on a private network allows them with DEEPFLIX_WEBHOOK_ALLOW_PRIVATE=1.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ..errors import InvalidInput

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class AddressRefused(InvalidInput):
    """The URL is malformed or leads to an address that is not allowed."""


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "a cloud metadata address"
    for test, what in ((ip.is_loopback, "a loopback address"), (ip.is_link_local, "a link-local address"),
                       (ip.is_private, "a private address"), (ip.is_multicast, "a multicast address"),
                       (ip.is_unspecified, "an unspecified address"), (ip.is_reserved, "a reserved address")):
        if test:
            return what
    return None


def resolve_checked(url: str, allow_private: bool) -> tuple[str, int, list[str]]:
    """(host, port, the addresses to connect to) for an http(s) URL whose every
    address is allowed. Raises AddressRefused naming why."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("webhook_url must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise AddressRefused("webhook_url must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise AddressRefused("webhook_url has a bad port") from exc
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"webhook_url's host {host!r} does not resolve") from exc
    addrs = sorted({str(info[4][0]) for info in infos})
    if not allow_private:
        for a in addrs:
            why = _refusal(ipaddress.ip_address(a.split("%")[0]))
            if why:
                raise AddressRefused(f"webhook_url's host {host!r} is {why}; webhooks go to public addresses only")
    return host, port, addrs
