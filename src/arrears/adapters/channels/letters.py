"""Letters as PDF files, one per message id (`<dir>/<message id>.pdf`, written to a temporary
name and renamed, so a repeat after a crash replaces the same file).

fpdf2 (pure Python) draws the text. Chinese needs a CJK font: the first of
`ARREARS_LETTER_FONT`, WenQuanYi Micro Hei or Noto Sans CJK found on the machine (Debian
`fonts-wqy-microhei`); without one, DejaVu Sans is used and Chinese characters are missing,
which the letter records in its metadata (`/Keywords missing-cjk-font`).

A CJK font file is large and fpdf2 parses it for every document (about 0.4 s a letter), so the
channel first cuts it down once to the characters of GB 2312 plus ASCII and CJK punctuation
(about 0.08 s a letter) and falls back to the whole font for a letter that needs anything else.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from fontTools import subset, ttLib
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


def _gb2312_characters() -> set[int]:
    characters = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                characters.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return characters


def common_subset(font: Path) -> tuple[Path, frozenset[int]]:
    """A cached copy of `font` cut down to GB 2312, and the characters it covers."""
    characters = _gb2312_characters()
    stamp = hashlib.sha256(f"{font}:{font.stat().st_mtime_ns}".encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"arrears-letter-font-{stamp}.ttf"
    if not target.is_file():
        parsed = ttLib.TTFont(str(font), fontNumber=0)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.layout_features = []
        cutter = subset.Subsetter(options)
        cutter.populate(unicodes=characters)
        cutter.subset(parsed)
        partial = target.with_suffix(f".{os.getpid()}.part")
        parsed.save(str(partial))
        os.replace(partial, target)
    return target, frozenset(characters)


class PdfLetterChannel:
    def __init__(self, directory: Path, *, sender_name: str = "") -> None:
        self.directory = directory
        self.sender_name = sender_name
        self._font: tuple[Path | None, bool] | None = None
        self._subset: tuple[Path, frozenset[int]] | None = None

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
            pdf.add_font("letter", fname=str(self._font_for(font, cjk, message)))
            pdf.set_font("letter", size=11)
            text = message.body
        pdf.multi_cell(0, 7, f"{message.recipient}\n\n{text}\n\nRef: {message.message_id}")
        return bytes(pdf.output())

    def _font_for(self, font: Path, cjk: bool, message: ClaimedMessage) -> Path:
        if not cjk:
            return font
        if self._subset is None:
            self._subset = common_subset(font)
        small, covered = self._subset
        text = f"{message.recipient}{message.body}{message.message_id}"
        return small if all(ord(c) in covered or c in "\n\r\t" for c in text) else font

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
