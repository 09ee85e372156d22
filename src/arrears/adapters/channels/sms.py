"""SMS through HTTP gateways (httpx): a generic JSON webhook, and Twilio's Messages API.

Both send the message id as an idempotency key (`Idempotency-Key`; Twilio's
`I-Twilio-Idempotency-Token`), so the gateway can drop a repeat after a crash. 2xx and 409
(already have it) are delivered; 429, 5xx, timeouts and network errors are transient; other
4xx are permanent (retrying would not help).
"""

from __future__ import annotations

from typing import Any

import httpx

from arrears.application.loan_import import mask
from arrears.application.notifications import DeliveryError
from arrears.application.ports import ClaimedMessage


def _check(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300 or status == 409:
        return
    transient = status == 429 or status >= 500
    raise DeliveryError(f"gateway answered {status}", transient=transient)


class _HttpChannel:
    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout
        self._client: httpx.Client | None = None

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        return self._client

    def post(self, url: str, **kwargs: Any) -> None:
        try:
            response = self.client().post(url, **kwargs)
        except httpx.TimeoutException:
            raise DeliveryError(f"gateway timed out after {self.timeout}s") from None
        except httpx.HTTPError as error:
            raise DeliveryError(f"gateway unreachable: {type(error).__name__}") from None
        _check(response)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


class WebhookSmsChannel(_HttpChannel):
    """POST {"message_id", "to", "text", "language", "loan_ref"} as JSON to `url`."""

    def __init__(self, url: str, *, token: str = "", timeout: float = 10.0,
                 sender_id: str = "") -> None:
        super().__init__(timeout=timeout)
        self.url = url
        self.token = token
        self.sender_id = sender_id

    def payload(self, message: ClaimedMessage) -> dict[str, Any]:
        return {"message_id": message.message_id, "to": message.recipient,
                "text": message.body, "language": message.language,
                "loan_ref": message.loan_ref, "sender_id": self.sender_id}

    def send(self, message: ClaimedMessage) -> None:
        headers = {"Idempotency-Key": message.message_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.post(self.url, json=self.payload(message), headers=headers)

    def __repr__(self) -> str:
        return f"WebhookSmsChannel({self.url!r})"


class TwilioSmsChannel(_HttpChannel):
    """Twilio Programmable Messaging: form-encoded POST to
    `{base}/2010-04-01/Accounts/{sid}/Messages.json` with basic auth (`To`, `From` or
    `MessagingServiceSid`, `Body`)."""

    def __init__(self, account_sid: str, auth_token: str, *, sender: str = "",
                 messaging_service_sid: str = "", base_url: str = "https://api.twilio.com",
                 timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        if not sender and not messaging_service_sid:
            raise ValueError("Twilio needs a sender number or a messaging service sid")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.messaging_service_sid = messaging_service_sid
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"

    def form(self, message: ClaimedMessage) -> dict[str, str]:
        form = {"To": message.recipient, "Body": message.body}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.sender
        return form

    def send(self, message: ClaimedMessage) -> None:
        self.post(self.url, data=self.form(message),
                  auth=(self.account_sid, self.auth_token),
                  headers={"I-Twilio-Idempotency-Token": message.message_id})

    def __repr__(self) -> str:
        return f"TwilioSmsChannel({mask(self.account_sid)})"
