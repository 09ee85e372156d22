"""Letters as PDF files, one per message id (`<dir>/<message id>.pdf`, written to a temporary
name and renamed, so a repeat after a crash replaces the same file).

fpdf2 (pure Python) draws the text. Chinese needs a CJK font: the first of
`ARREARS_LETTER_FONT`, WenQuanYi Micro Hei or Noto Sans CJK found on the machine (Debian
`fonts-wqy-microhei`); without one, DejaVu Sans is used and Chinese characters are missing,
which the letter records in its metadata (`/Keywords missing-cjk-font`).
"""

from __future__ import annotations

import os
from pathlib import Path

from fpdf import FPDF

from arrears.application.notifications import DeliveryError
from arrears.application.ports import ClaimedMessage

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
)
LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)


def find_font() -> tuple[Path | None, bool]:
    """(font file, whether it covers Chinese)."""
    configured = os.environ.get("ARREARS_LETTER_FONT")
    if configured and Path(configured).is_file():
        return Path(configured), True
    for name in CJK_FONTS:
        if Path(name).is_file():
            return Path(name), True
    for name in LATIN_FONTS:
        if Path(name).is_file():
            return Path(name), False
    return None, False


class PdfLetterChannel:
    def __init__(self, directory: Path, *, sender_name: str = "") -> None:
        self.directory = directory
        self.sender_name = sender_name
        self._font: tuple[Path | None, bool] | None = None

    def render(self, message: ClaimedMessage) -> bytes:
        if self._font is None:
            self._font = find_font()
        font, cjk = self._font
        pdf = FPDF(format="A4")
        pdf.set_title(message.subject or message.message_id)
        pdf.set_subject(message.message_id)
        pdf.set_author(self.sender_name)
        pdf.set_keywords(message.message_id + ("" if cjk else " missing-cjk-font"))
        pdf.add_page()
        if font is None:
            pdf.set_font("helvetica", size=11)
            text = message.body.encode("latin-1", "replace").decode("latin-1")
        else:
            pdf.add_font("letter", fname=str(font))
            pdf.set_font("letter", size=11)
            text = message.body
        pdf.multi_cell(0, 7, f"{message.recipient}\n\n{text}\n\nRef: {message.message_id}")
        return bytes(pdf.output())

    def send(self, message: ClaimedMessage) -> None:
        try:
            data = self.render(message)
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / f"{message.message_id}.pdf"
            partial = target.with_suffix(".pdf.part")
            partial.write_bytes(data)
            os.replace(partial, target)
        except OSError as error:
            raise DeliveryError(f"letter store: {error.strerror}") from None

    def close(self) -> None:
        return None
