"""Email over SMTP (stdlib `smtplib`). The message id is the RFC 5322 Message-ID and an
`X-Arrears-Message-Id` header, so a repeat after a crash is recognisable by the receiver.

The connection is opened on the first send and kept for the next ones; a dropped connection
is reopened once. 4xx replies and network errors are transient, 5xx replies permanent.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from arrears.application.notifications import DeliveryError
from arrears.application.ports import ClaimedMessage


class SmtpEmailChannel:
    def __init__(self, host: str, port: int, *, sender: str, domain: str = "arrears.local",
                 timeout: float = 10.0, username: str = "", password: str = "",
                 starttls: bool = False) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.domain = domain
        self.timeout = timeout
        self.username = username
        self.password = password
        self.starttls = starttls
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            self._smtp = smtp
        return self._smtp

    def build(self, message: ClaimedMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or message.message_id
        email["Message-ID"] = f"<{message.message_id}@{self.domain}>"
        email["X-Arrears-Message-Id"] = message.message_id
        email.set_content(message.body, charset="utf-8")
        return email

    def send(self, message: ClaimedMessage) -> None:
        email = self.build(message)
        for attempt in (1, 2):
            try:
                self._connect().send_message(email)
                return
            except smtplib.SMTPServerDisconnected as error:
                self.close()
                if attempt == 2:
                    raise DeliveryError(f"smtp disconnected: {error}") from None
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                transient = all(400 <= code < 500 for code in codes)
                raise DeliveryError(f"smtp refused recipient {codes}",
                                    transient=transient) from None
            except smtplib.SMTPResponseException as error:
                self.close()
                raise DeliveryError(f"smtp {error.smtp_code}",
                                    transient=400 <= error.smtp_code < 500) from None
            except (OSError, smtplib.SMTPException) as error:
                self.close()
                raise DeliveryError(f"smtp {type(error).__name__}: {error}") from None

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

