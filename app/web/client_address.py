"""The address a request comes from, the one every limit counts (login throttling, public rate
limits): the connecting peer's, or, when that peer is a trusted proxy
(FILROUGE_TRUSTED_PROXIES), the client it says in X-Forwarded-For it forwards for.

Each proxy appends the address it received the request from, so only the right-hand end of
the header was written by proxies we trust; anything to the left of the first untrusted
address may have been typed by the client and is never read."""

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import Request

from app.core.config import get_settings

UNKNOWN = "inconnue"

Address = IPv4Address | IPv6Address
Networks = Sequence[IPv4Network | IPv6Network]


def _read_address(text: str) -> Address | None:
    """An IP address as proxies write it, with or without a port ("[2001:db8::1]:443")."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket is the same client.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Networks) -> bool:
    return any(address in network for network in networks)


def forwarded_client(peer: str, forwarded_for: list[str], networks: Networks) -> str:
    """The client of a request received from `peer` with these X-Forwarded-For headers."""
    address = _read_address(peer)
    if address is None:
        return peer or UNKNOWN
    if not _trusted(address, networks):
        return str(address)
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        forwarded = _read_address(hop)
        if forwarded is None:
            break  # unreadable: whoever wrote it is not to be believed, nor anything before
        address = forwarded
        if not _trusted(address, networks):
            break
    return str(address)


def client_address(request: Request) -> str:
    """The request's client address, as every limit of the app counts it."""
    peer = request.client.host if request.client else ""
    return forwarded_client(
        peer, request.headers.getlist("x-forwarded-for"), get_settings().trusted_proxies
    )
