"""A DNS client that asks exactly one resolver: the address the provider configured.

dnspython, with no system configuration read (no /etc/resolv.conf, no search
domains): one UDP query (TCP when the answer is truncated) to `ADDR:PORT`.
"""

from __future__ import annotations

import ipaddress

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from fedi_tui.core.errors import FediError
from fedi_tui.core.text import visible_line

TIMEOUT = 3.0


def parse_resolver(text: str) -> tuple[str, int]:
    """`ADDR:PORT` or `[V6]:PORT` or a bare address (port 53); FediError otherwise."""
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        address = str(ipaddress.ip_address(host))
        number = int(port)
    except ValueError:
        raise FediError(
            f"--resolver {text!r}: expected ADDR:PORT with an IP address (e.g. 127.0.0.53:53); "
            "names are not looked up"
        ) from None
    if not 0 < number < 65536:
        raise FediError(f"--resolver {text!r}: port {number} is not between 1 and 65535")
    return address, number


class DnsResolver:
    def __init__(self, text: str, *, timeout: float = TIMEOUT) -> None:
        self.host, self.port = parse_resolver(text)
        self.address = f"{self.host}:{self.port}"
        self.timeout = timeout

    async def lookup(self, name: str, rtype: str) -> tuple[str, ...]:
        query = dns.message.make_query(dns.name.from_text(name), dns.rdatatype.from_text(rtype))
        try:
            answer, _tcp = await dns.asyncquery.udp_with_fallback(
                query, self.host, timeout=self.timeout, port=self.port
            )
        except (dns.exception.Timeout, OSError) as exc:
            raise FediError(
                f"DNS resolver {self.address} did not answer for {name} ({type(exc).__name__}); "
                "check --resolver"
            ) from None
        except dns.exception.DNSException as exc:
            raise FediError(
                f"DNS resolver {self.address}: bad answer for {name}: {visible_line(str(exc))}"
            ) from None
        if answer.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return ()
        wanted = dns.rdatatype.from_text(rtype)
        return tuple(
            visible_line(item.to_text()).rstrip(".")
            for rrset in answer.answer
            if rrset.rdtype == wanted
            for item in rrset
        )
