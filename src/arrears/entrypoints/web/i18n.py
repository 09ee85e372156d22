"""The pages' two languages: English message ids translated through the Babel catalog
`translations/zh_CN/LC_MESSAGES/messages.po` (read from source at start-up, so there is no
compile step), and dates, times and money formatted for the language with Babel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_percent

from arrears.application.loan_file import money_text

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
CATALOGS = {"zh-CN": "zh_CN"}
"""Languages with a catalog; English is the message ids themselves."""


@cache
def catalog(language: str) -> Mapping[str, str]:
    """msgid → msgstr of a language's catalog (empty for English)."""
    folder = CATALOGS.get(language)
    if folder is None:
        return {}
    path = resources.files(__package__).joinpath(
        f"translations/{folder}/LC_MESSAGES/messages.po")
    with path.open("rb") as po:
        messages = read_po(po, locale=folder)
    return {str(m.id): str(m.string) for m in messages if m.id and m.string}


def pick_language(cookie: str | None, accept_language: str) -> str:
    """The language the visitor chose, else the first of theirs we speak, else zh-CN."""
    if cookie in LANGUAGES:
        return cookie
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Translator:
    """What templates call: `_()` for text, `when()` for instants, `money()` for amounts."""

    language: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language.replace("-", "_"))

    def __call__(self, message: str, **values: object) -> str:
        text = catalog(self.language).get(message, message)
        return text.format(**values) if values else text

    def when(self, at: datetime | None, zone: str = "Asia/Shanghai") -> str:
        """An instant on the wall clock of `zone`, with the zone named."""
        if at is None:
            return ""
        tz = ZoneInfo(zone)
        return format_datetime(at.astimezone(tz), "yyyy-MM-dd HH:mm", tzinfo=tz,
                               locale=self.locale) + f" ({zone})"

    def money(self, amount: str, currency: str) -> str:
        return str(format_currency(Decimal(amount), currency, locale=self.locale))

    def minor(self, units: int, currency: str) -> str:
        """An amount held in minor units (an application query's integer figure)."""
        return self.money(money_text(units, currency), currency)

    def fine(self, amount: str, currency: str) -> str:
        """An amount with all of its sub-minor digits (an accrual as accrued), never rounded."""
        return str(format_currency(Decimal(amount), currency, locale=self.locale,
                                   decimal_quantization=False))

    def rate(self, share: Decimal) -> str:
        """An annual rate (0.27) as a percentage (27%) with every digit it has."""
        return str(format_percent(share, locale=self.locale, decimal_quantization=False))

    def percent(self, share: str | Decimal, places: int = 1) -> str:
        """A share (0.1834) as a percentage (18.3%), exactly, to `places` decimals."""
        pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
        return str(format_percent(Decimal(share), pattern, locale=self.locale))
