"""Settings from the environment, validated once at start-up. Secrets never live in the repo."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from arrears.domain.delinquency import WRITE_OFF_DPD, check_write_off_dpd
from arrears.domain.errors import DomainError

DEFAULT_DB = "sqlite:///./arrears.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DB  # ARREARS_DB
    business_time_zone: str = "Asia/Shanghai"  # ARREARS_TIMEZONE: the lender's business dates
    write_off_dpd: int = WRITE_OFF_DPD  # ARREARS_WRITE_OFF_DPD
    key_dir: str = ""  # ARREARS_KEY_DIR: private signing keys ('' = under the user's data dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "database_url": env.get("ARREARS_DB", DEFAULT_DB),
            "business_time_zone": env.get("ARREARS_TIMEZONE", "Asia/Shanghai"),
            "key_dir": env.get("ARREARS_KEY_DIR", ""),
        }
        raw_dpd = env.get("ARREARS_WRITE_OFF_DPD")
        if raw_dpd is not None:
            if not (raw_dpd.isascii() and raw_dpd.isdigit()):
                raise DomainError("ARREARS_WRITE_OFF_DPD", "must be a whole number of days")
            values["write_off_dpd"] = check_write_off_dpd(int(raw_dpd), "ARREARS_WRITE_OFF_DPD")
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        try:
            ZoneInfo(settings.business_time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DomainError("ARREARS_TIMEZONE", "is not an IANA time zone") from None
        return settings
