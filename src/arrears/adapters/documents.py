"""Printed documents as PDF (the borrower's statement, a complaint case summary): a title and
sections of table rows, drawn by fpdf2 with the letters' font (`channels.letters`: a CJK font
cut down to GB 2312 when the text allows, DejaVu Sans without one, recorded in the keywords).
Written beside the target and renamed, so a failed write leaves no half-written file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from arrears.adapters.channels.letters import common_subset, find_font
from arrears.domain.errors import DomainError

Section = tuple[str, Sequence[Sequence[str]]]


def _font(text: str) -> tuple[Path | None, bool]:
    font, cjk = find_font()
    if font is None or not cjk:
        return font, cjk
    small, covered = common_subset(font)
    return (small if all(ord(c) in covered or c in "\n\r\t" for c in text) else font), True


def render_pdf(title: str, sections: Sequence[Section], *, subject: str) -> bytes:
    """A PDF of `title` and `sections` (heading, rows). The first row is the column heads, or
    all empty for a section of label–value pairs; no rows prints the heading as a note."""
    text = title + "".join(h + "".join("".join(r) for r in rows) for h, rows in sections)
    font, cjk = _font(text)
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_subject(subject)
    pdf.set_keywords(subject + ("" if cjk else " missing-cjk-font"))
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    if font is None:
        family = "helvetica"

        def clean(value: str) -> str:
            return value.encode("latin-1", "replace").decode("latin-1")
    else:
        family = "document"
        pdf.add_font(family, fname=str(font))

        def clean(value: str) -> str:
            return value
    pdf.set_font(family, size=13)
    pdf.multi_cell(0, 8, clean(title), new_x="LMARGIN", new_y="NEXT")
    for heading, rows in sections:
        pdf.ln(3)
        pdf.set_font(family, size=10)
        pdf.multi_cell(0, 6, clean(heading), new_x="LMARGIN", new_y="NEXT")
        if not rows:
            continue
        heads = any(rows[0])
        pdf.set_font(family, size=7 if len(rows[0]) > 6 else 8)
        # One regular font face: a CJK font file has no bold style to emphasise heads with.
        with pdf.table(text_align="LEFT", first_row_as_headings=heads,
                       headings_style=FontFace(emphasis="", fill_color=(230, 230, 230))
                       ) as table:
            for row in rows if heads else rows[1:]:
                cells = table.row()
                for value in row:
                    cells.cell(clean(value))
    return bytes(pdf.output())


def write_file(data: bytes, path: Path, field: str = "--out") -> None:
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise DomainError(field, f"cannot write {path}: {error.strerror or error}") from None
