"""Local sinks for the demo and for development: each channel appends one JSON line per
delivery to `<dir>/<channel>.jsonl` (the message id included, so repeats are visible)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from arrears.application.ports import ClaimedMessage


class JsonLinesChannel:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def send(self, message: ClaimedMessage) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps({
            "message_id": message.message_id, "channel": message.channel,
            "to": message.recipient, "subject": message.subject, "body": message.body,
            "loan_ref": message.loan_ref}, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()
