"""The wording screen: find lexicon phrases in message content and collector scripts.

Lexicons are data files in `packs/lexicons/` (`en.toml`, `zh.toml`, and `t2s.txt`, a
traditional→simplified character map). Chinese phrases are matched on a compact form of the
text: NFKC (full-width → half-width), case-folded, traditional → simplified, with every space,
punctuation mark and symbol removed, so "坐 牢", "坐*牢" and "ＺＵＯ牢" style evasions still match.
English phrases are matched on whole words after NFKC and case folding. Every match reports
the category, the lexicon phrase and the original text it covered.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from arrears.compliance.model import WordMatch

_LEXICON_PACKAGE = "arrears.compliance.packs.lexicons"


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    name: str
    forbidden: bool
    label_en: str
    label_zh: str
    phrases: tuple[str, ...]
    normalized: tuple[str, ...]
    compact: bool
    """True for phrases matched on the compact (Chinese) form."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lexicon:
    categories: tuple[Category, ...]

    def category(self, name: str) -> Category | None:
        for category in self.categories:
            if category.name == name:
                return category
        return None

    @property
    def forbidden(self) -> frozenset[str]:
        return frozenset(c.name for c in self.categories if c.forbidden)


@dataclass(frozen=True, slots=True)
class Screen:
    """The result of screening one text: every match, by category."""

    matches: tuple[WordMatch, ...]

    def has(self, category: str) -> bool:
        return any(match.category == category for match in self.matches)

    def of(self, *categories: str) -> tuple[WordMatch, ...]:
        return tuple(match for match in self.matches if match.category in categories)


def _read_text(name: str) -> str:
    return resources.files(_LEXICON_PACKAGE).joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def traditional_to_simplified() -> dict[int, str]:
    table: dict[int, str] = {}
    for number, line in enumerate(_read_text("t2s.txt").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 1 or len(parts[1]) != 1:
            raise ValueError(f"t2s.txt line {number}: expected 'T S', got {line!r}")
        table[ord(parts[0])] = parts[1]
    return table


def _dropped(char: str) -> bool:
    """Characters removed from the compact form: spaces, punctuation, symbols, controls."""
    return unicodedata.category(char)[0] in "PZSC"


def compact(text: str) -> tuple[str, tuple[int, ...]]:
    """The compact form of `text` and, for each of its characters, the source position."""
    table = traditional_to_simplified()
    out: list[str] = []
    positions: list[int] = []
    for position, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char).casefold():
            if _dropped(piece):
                continue
            out.append(table.get(ord(piece), piece))
            positions.append(position)
    return "".join(out), tuple(positions)


def words(text: str) -> tuple[str, tuple[int, ...]]:
    """` word word ` form of `text` (single spaces, padded) and source positions."""
    out: list[str] = [" "]
    positions: list[int] = [0]
    for position, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char).casefold():
            if piece == "'" or piece == "\u2019":
                out.append("'")
                positions.append(position)
            elif piece.isalnum():
                out.append(piece)
                positions.append(position)
            elif out[-1] != " ":
                out.append(" ")
                positions.append(position)
    if out[-1] != " ":
        out.append(" ")
        positions.append(len(text))
    return "".join(out), tuple(positions)


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The zh and en lexicons shipped with the packs, loaded on first use."""
    return load_lexicon(("en.toml", "zh.toml"))


def load_lexicon(files: tuple[str, ...]) -> Lexicon:
    merged: dict[str, Category] = {}
    for name in files:
        data = tomllib.loads(_read_text(name))
        for key, raw in data.items():
            if not isinstance(raw, dict) or not isinstance(raw.get("phrases"), list):
                raise ValueError(f"{name}: [{key}] needs a list of phrases")
            phrases = tuple(str(p) for p in raw["phrases"])
            for phrase in phrases:
                is_cjk = _is_cjk(phrase)
                normal = compact(phrase)[0] if is_cjk else words(phrase)[0]
                merged[f"{key}\0{phrase}"] = Category(
                    name=key,
                    forbidden=bool(raw.get("forbidden", False)),
                    label_en=str(raw.get("label_en", key)),
                    label_zh=str(raw.get("label_zh", key)),
                    phrases=(phrase,),
                    normalized=(normal,),
                    compact=is_cjk,
                )
    grouped: dict[tuple[str, bool], list[Category]] = {}
    for category in merged.values():
        grouped.setdefault((category.name, category.compact), []).append(category)
    categories = tuple(
        Category(
            name=name,
            forbidden=parts[0].forbidden,
            label_en=parts[0].label_en,
            label_zh=parts[0].label_zh,
            phrases=tuple(p.phrases[0] for p in parts),
            normalized=tuple(p.normalized[0] for p in parts),
            compact=is_compact,
        )
        for (name, is_compact), parts in grouped.items()
    )
    return Lexicon(categories=categories)


def screen(text: str, lexicon: Lexicon | None = None) -> Screen:
    """Every lexicon phrase found in `text` (first occurrence of each phrase)."""
    if not text:
        return Screen(())
    lexicon = lexicon or default_lexicon()
    compact_text, compact_pos = compact(text)
    word_text, word_pos = words(text)
    found: list[WordMatch] = []
    for category in lexicon.categories:
        haystack, positions = (
            (compact_text, compact_pos) if category.compact else (word_text, word_pos)
        )
        for phrase, needle in zip(category.phrases, category.normalized, strict=True):
            if not needle.strip():
                continue
            at = haystack.find(needle)
            if at < 0:
                continue
            first, last = at, at + len(needle) - 1
            if not category.compact:  # trim the padding spaces of the word form
                first, last = first + 1, last - 1
            start = positions[first]
            end = positions[last] + 1
            found.append(
                WordMatch(
                    category=category.name,
                    phrase=phrase,
                    matched=text[start:end],
                    start=start,
                    end=end,
                )
            )
    found.sort(key=lambda m: (m.start, m.category, m.phrase))
    return Screen(tuple(found))
