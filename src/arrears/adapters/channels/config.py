"""Which channel adapter serves which message channel, from settings (CLI options or the
environment). Anything not configured goes to a local JSON-lines sink; call tasks always go to
the `call_task` table; letters to PDF files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from arrears.adapters.channels.calls import CallTaskChannel
from arrears.adapters.channels.email import SmtpEmailChannel
from arrears.adapters.channels.letters import PdfLetterChannel
from arrears.adapters.channels.local import JsonLinesChannel
from arrears.adapters.channels.sms import TwilioSmsChannel, WebhookSmsChannel
from arrears.application.notifications import Channel
from arrears.application.ports import Clock
from arrears.domain.errors import DomainError

MESSAGE_CHANNELS = ("sms", "email", "app_push", "call", "letter")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelSettings:
    sink_dir: Path = Path("outbox-sinks")
    smtp: str = ""  # host:port
    smtp_sender: str = "collections@arrears.local"
    sms_webhook: str = ""
    sms_token: str = ""
    push_webhook: str = ""
    twilio_sid: str = ""
    twilio_token: str = ""
    twilio_from: str = ""
    twilio_base_url: str = "https://api.twilio.com"
    http_timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object
                 ) -> ChannelSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "smtp": env.get("ARREARS_SMTP", ""),
            "smtp_sender": env.get("ARREARS_SMTP_SENDER", "collections@arrears.local"),
            "sms_webhook": env.get("ARREARS_SMS_WEBHOOK", ""),
            "sms_token": env.get("ARREARS_SMS_TOKEN", ""),
            "push_webhook": env.get("ARREARS_PUSH_WEBHOOK", ""),
            "twilio_sid": env.get("ARREARS_TWILIO_SID", ""),
            "twilio_token": env.get("ARREARS_TWILIO_TOKEN", ""),
            "twilio_from": env.get("ARREARS_TWILIO_FROM", ""),
        }
        if env.get("ARREARS_SINK_DIR"):
            values["sink_dir"] = Path(env["ARREARS_SINK_DIR"])
        values.update({k: v for k, v in overrides.items() if v not in (None, "")})
        if values["smtp"]:
            _check_smtp(str(values["smtp"]), "--smtp" if overrides.get("smtp") else "ARREARS_SMTP")
        return cls(**values)  # type: ignore[arg-type]


def _check_smtp(text: str, field: str) -> None:
    _, _, port = text.rpartition(":")
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise DomainError(field, f"{text!r} is not HOST:PORT with a port from 1 to 65535")


def build_channels(settings: ChannelSettings, engine: sa.Engine, clock: Clock
                   ) -> dict[str, Channel]:
    sinks = settings.sink_dir
    channels: dict[str, Channel] = {
        name: JsonLinesChannel(sinks / f"{name}.jsonl") for name in ("sms", "email", "app_push")
    }
    if settings.smtp:
        host, _, port = settings.smtp.rpartition(":")
        channels["email"] = SmtpEmailChannel(host or "127.0.0.1", int(port),
                                             sender=settings.smtp_sender,
                                             timeout=settings.http_timeout)
    if settings.twilio_sid:
        channels["sms"] = TwilioSmsChannel(settings.twilio_sid, settings.twilio_token,
                                           sender=settings.twilio_from,
                                           base_url=settings.twilio_base_url,
                                           timeout=settings.http_timeout)
    elif settings.sms_webhook:
        channels["sms"] = WebhookSmsChannel(settings.sms_webhook, token=settings.sms_token,
                                            timeout=settings.http_timeout)
    if settings.push_webhook:
        channels["app_push"] = WebhookSmsChannel(settings.push_webhook,
                                                 timeout=settings.http_timeout)
    channels["call"] = CallTaskChannel(engine, clock)
    channels["letter"] = PdfLetterChannel(sinks / "letters")
    return channels
