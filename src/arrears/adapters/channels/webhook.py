"""Webhook deliveries over HTTP (httpx): the event document POSTed to the subscriber's URL,
signed (`Arrears-Signature: t=…,v1=…`, see `application.webhooks`) with the send instant of
the injected clock.

Any 2xx is delivered. Every other answer, a timeout or a network error is retried with
backoff until the attempt limit (a receiver fixed later still gets every event); a removed
subscription fails for good. Redirects are not followed: a delivery goes to the registered
URL only. The answer's body is never read.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx

from arrears.application.notifications import DeliveryError
from arrears.application.ports import ClaimedMessage, Clock
from arrears.application.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    Endpoint,
    signature_header,
)

USER_AGENT = "arrears-webhooks/1"
ID_SAFE = ":.@-_~"


class WebhookChannel:
    def __init__(self, endpoints: Callable[[str], Endpoint | None], *, clock: Clock,
                 timeout: float = 10.0) -> None:
        self.endpoints = endpoints
        self.clock = clock
        self.timeout = timeout
        self._client: httpx.Client | None = None

    def send(self, message: ClaimedMessage) -> None:
        endpoint = self.endpoints(message.recipient)
        if endpoint is None:
            raise DeliveryError("the subscription was removed", transient=False)
        body = message.body.encode()
        stamp = int(self.clock.now().timestamp())
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   # Percent-encoded: an id carries the lender's payment key, and a header
                   # is ASCII.
                   EVENT_ID_HEADER: quote(message.subject, safe=ID_SAFE),
                   SIGNATURE_HEADER: signature_header(endpoint.secret, stamp, body)}
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        try:
            with self._client.stream("POST", endpoint.url, content=body,
                                     headers=headers) as response:
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
