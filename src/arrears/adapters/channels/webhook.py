"""Webhook deliveries over HTTP (httpx): the event document POSTed to the subscriber's URL,
signed (`Arrears-Signature: t=…,v1=…`, see `application.webhooks`) with the send instant of
the injected clock.

Any 2xx is delivered. Every other answer, a timeout or a network error is retried with
backoff until the attempt limit (a receiver fixed later still gets every event); a removed
subscription fails for good. Redirects are not followed: a delivery goes to the registered
URL only. The answer's body is never read.

The URL's host is resolved before each send, and unless `allow_private` every address it
resolves to must be public (`public_address`): a name can point into the lender's network,
or be re-pointed there after subscribing. The request then goes to the address that was
checked (the host still named in `Host` and, over TLS, in SNI and the certificate check), so
a second lookup cannot swap it for another.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from arrears.application.notifications import DeliveryError
from arrears.application.ports import ClaimedMessage, Clock
from arrears.application.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    Endpoint,
    ip_literal,
    public_address,
    signature_header,
)

USER_AGENT = "arrears-webhooks/1"
ID_SAFE = ":.@-_~"


Resolver = Callable[[str, int], list[str]]
"""A host name and port → the addresses to connect to, in order."""


def lookup(host: str, port: int) -> list[str]:
    """The system resolver's addresses for `host` (IPv6 zone ids dropped)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).partition("%")[0] for info in found]


class WebhookChannel:
    def __init__(self, endpoints: Callable[[str], Endpoint | None], *, clock: Clock,
                 timeout: float = 10.0, allow_private: bool = False,
                 resolve: Resolver = lookup) -> None:
        self.endpoints = endpoints
        self.clock = clock
        self.timeout = timeout
        self.allow_private = allow_private
        self.resolve = resolve
        self._client: httpx.Client | None = None

    def _pinned(self, url: str) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
        """The URL aimed at the checked address, and the `Host` header and request
        extensions that keep naming the host."""
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")  # an international name in its IDNA form
        try:
            addresses = self.resolve(host, target.port or (443 if target.scheme == "https"
                                                           else 80))
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise DeliveryError(f"the receiver's host {host} does not resolve")
        for address in addresses:
            parsed = ip_literal(address)
            if not self.allow_private and (parsed is None or not public_address(parsed)):
                raise DeliveryError(f"the receiver's host {host} resolves to {address}, not a "
                                    "public address", transient=False)
        named = f"[{host}]" if ":" in host else host
        if target.port is not None:
            named += f":{target.port}"
        by_name = target.scheme == "https" and ip_literal(host) is None
        return (target.copy_with(host=addresses[0]), {"Host": named},
                {"sni_hostname": host} if by_name else {})

    def send(self, message: ClaimedMessage) -> None:
        endpoint = self.endpoints(message.recipient)
        if endpoint is None:
            raise DeliveryError("the subscription was removed", transient=False)
        url, named, extensions = self._pinned(endpoint.url)
        body = message.body.encode()
        stamp = int(self.clock.now().timestamp())
        headers = {**named, "Content-Type": "application/json", "User-Agent": USER_AGENT,
                   # Percent-encoded: an id carries the lender's payment key, and a header
                   # is ASCII.
                   EVENT_ID_HEADER: quote(message.subject, safe=ID_SAFE),
                   SIGNATURE_HEADER: signature_header(endpoint.secret, stamp, body)}
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        try:
            with self._client.stream("POST", url, content=body, headers=headers,
                                     extensions=extensions) as response:
                status = response.status_code
        except httpx.TimeoutException:
            raise DeliveryError(f"the receiver did not answer within {self.timeout}s") from None
        except httpx.HTTPError as error:
            raise DeliveryError(f"the receiver is unreachable: {type(error).__name__}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"the receiver answered {status}")

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __repr__(self) -> str:
        return "WebhookChannel()"
