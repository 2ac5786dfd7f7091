"""Where the platform may send a request: the egress guard of every webhook and DCSA callback.

A subscriber chooses the URL, so without a guard any organisation could make the workers post to the platform's
own network (the database, the admin, a cloud's metadata service) and read the answers off the delivery log.
The rule (docs/SECURITY.md, "Egress"): http or https (https only in production) to public addresses; loopback,
private, shared, link-local (cloud metadata), multicast, reserved and unspecified addresses are refused, unless a
deployment names a network in WEBHOOK_ALLOWED_NETWORKS. It is checked when a URL is subscribed (a 400 naming the
URL) and again at every send on the addresses the name resolves to then: the post connects to the very address
that was checked (another lookup could be answered differently: DNS rebinding), keeps the Host header and the TLS
server name of the URL, and follows no redirect.
"""

import functools
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
UNRESOLVED = gettext_noop("Not sent: the receiver's host name does not resolve.")
NOT_PUBLIC = gettext_noop("Not sent: the receiver's host resolves to an address that is not public.")


class EgressRefused(Exception):
    """A URL the platform will not send to. `args[0]` is for the subscriber: it names no internal address."""


class NameUnresolved(EgressRefused):
    """The URL's host name does not resolve (now)."""


@dataclass(frozen=True)
class Target:
    """Where one post goes: the checked address to connect to, and the URL's own host for Host and TLS."""

    scheme: str
    host: str
    port: int
    address: str
    path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an address literal resolves to itself). Tests replace this."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@functools.lru_cache(maxsize=8)
def _allowed_networks(names: tuple[str, ...]) -> tuple:
    try:
        return tuple(ipaddress.ip_network(name.strip(), strict=False) for name in names if name.strip())
    except ValueError as error:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {error}") from None


def allowed_networks() -> tuple:
    return _allowed_networks(tuple(settings.WEBHOOK_ALLOWED_NETWORKS))


def schemes() -> tuple[str, ...]:
    return ("https",) if settings.WEBHOOK_REQUIRE_HTTPS else ("http", "https")


def address_kind(address: Address) -> str | None:
    """Why an address is not public ("loopback", "private", ...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        # 169.254.169.254 and fe80::/10: where clouds serve instance metadata and credentials.
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        # 100.64.0.0/10 (carrier-grade NAT; Alibaba Cloud's metadata at 100.100.100.200) and the like.
        return "shared"
    return None


def refusal(address: str) -> str | None:
    """Why the platform will not connect to `address`, or None when it may: public, or in an allowed network."""
    parsed = ipaddress.ip_address(address.split("%", 1)[0])
    kind = address_kind(parsed)
    if kind is None:
        return None
    if any(parsed in network for network in allowed_networks() if network.version == parsed.version):
        return None
    return kind


def _parts(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a URL the guard accepts the shape of."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise EgressRefused(_("%(url)s is not a valid URL.") % {"url": url}) from None
    scheme = parts.scheme.lower()
    if scheme not in schemes():
        if scheme == "http":
            raise EgressRefused(_("%(url)s: webhooks are sent over https only.") % {"url": url})
        raise EgressRefused(_("%(url)s: only http and https URLs can receive webhooks.") % {"url": url})
    if not parts.hostname:
        raise EgressRefused(_("%(url)s has no host.") % {"url": url})
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname, port or DEFAULT_PORTS[scheme], path


def url_check(url: str) -> None:
    """At subscription: refuse a URL whose scheme is not allowed or whose host resolves to an address that is
    not public. A name that does not resolve now is accepted (DNS may be down for a moment); every send checks
    again."""
    scheme, host, port, _path = _parts(url)
    try:
        addresses = resolve(host, port)
    except (OSError, ValueError):  # ValueError: UnicodeError (an IDNA label too long), an odd character
        return
    for address in addresses:
        kind = refusal(address)
        if kind is not None:
            raise EgressRefused(
                _("%(url)s points to a %(kind)s address (%(address)s): webhooks go to public addresses only.")
                % {"url": url, "kind": kind, "address": address})


def target(url: str) -> Target:
    """At each send: resolve the URL's host now and check every address it gives; the post connects to the first
    one. Refusals name no address (the name may be resolvable only inside the platform's network); their text is
    stored in the delivery log as it is (English, like the log's other reasons)."""
    scheme, host, port, path = _parts(url)
    try:
        addresses = resolve(host, port)
    except (OSError, ValueError):  # ValueError: UnicodeError (an IDNA label too long), an odd character
        raise NameUnresolved(UNRESOLVED) from None
    if not addresses:
        raise NameUnresolved(UNRESOLVED)
    if any(refusal(address) for address in addresses):
        raise EgressRefused(NOT_PUBLIC)
    return Target(scheme=scheme, host=host, port=port, address=addresses[0], path=path)
