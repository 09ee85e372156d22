"""FROZEN REFERENCE — do not optimise or edit: a verbatim copy of
`arrears.compliance.wording` as it stood before it was made faster (main at 4664e2b).

It exists so that the optimised screen can be held to exactly the same decisions: the
property tests in `unit/compliance/test_wording_prefilter.py` compare the two on adversarial
texts, and `bench/compliance.py` times the two side by side in one run. If the screen's
*behaviour* is ever meant to change, change this copy in the same commit and say why.

The original module docstring follows.

The wording screen: find lexicon phrases in message content and collector scripts, in context.

Lexicons are data files in `packs/lexicons/` (`en.toml`, `zh.toml`, `negation.toml`, and
`t2s.txt`, a traditional→simplified character map). Text and phrases go through the same
normalisation, so an evasion of one is an evasion of neither:

* Chinese phrases are matched on a compact form: NFKC (full-width → half-width), case-folded,
  traditional → simplified, every space, punctuation mark and symbol removed ("坐 牢", "坐*牢").
* Latin phrases are matched on whole words of a word form: NFKC, case-folded, accents
  stripped, look-alike Cyrillic/Greek letters read as Latin, zero-width characters dropped,
  leetspeak read as letters inside words that have letters ("arr3st", "$ue"; 1, l and i are
  one letter, as in Unicode's confusable skeletons), and three or more single letters split by
  up to three spaces, dots, hyphens or underscores joined ("a r r e s t", "A.R.R.E.S.T."). A
  phrase may also lie anywhere inside such a joined run ("y o u  w i l l  b e  a r r e s t e d"):
  word boundaries are what the evasion destroyed. Pure numbers are never read as letters.

Phrases of a `negatable` category are screened in context: a negated phrase is not a match
("we will not sue you for it", "不会起诉"), while a negator that governs another word leaves
the threat standing ("we won't hesitate to sue", "不还钱就起诉你"); see `negation.toml` for the
scope rules. Every match reports the category, the lexicon phrase and the original text it
covered; the first unnegated occurrence of each phrase is reported.
"""

from __future__ import annotations

import html
import re
import tomllib
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from arrears.compliance.model import WordMatch

_LEXICON_PACKAGE = "arrears.compliance.packs.lexicons"

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
         "!": "i", "|": "i", "l": "i"}
"""Characters read as letters inside a word; `l` joins `1` and `i` (one confusable class)."""
_TEXTESE = {"u": "you", "ur": "your", "ya": "you", "yr": "your"}
"""Text-message spellings of whole words ("we know where u live")."""
_LOOKALIKE = str.maketrans(
    "аеорсухіјѕһԁԛԝкαοικρτυχεν", "aeopcyxijshdqwkaoikptuxev"
)
"""Cyrillic and Greek letters that render like Latin ones (after case folding)."""
_SENTENCE_END = frozenset(".!?;\n\r。！？；")
_CLAUSE_END = frozenset(",:()[]{}\"“”«»、，：（）—–…「」『』") | _SENTENCE_END
_MAX_SPLIT_GAP = 3
"""Separators between the single letters of a split word ("a . r . r" has three)."""
_MIN_SPLIT_RUN = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    name: str
    forbidden: bool
    negatable: bool
    refs: tuple[str, ...]
    """Rule ids (shared/reference/rules.md) the category serves."""
    label_en: str
    label_zh: str
    phrases: tuple[str, ...]
    normalized: tuple[str, ...]
    compact: bool
    """True for phrases matched on the compact (Chinese) form."""
    except_within: tuple[str, ...] = ()
    """Normalised phrases inside which a match does not count (诉讼时效 is not a lawsuit)."""
    joined: tuple[str, ...] = ()
    """Latin phrases without spaces or apostrophes, as they appear inside a split-letter run."""
    words: frozenset[str] = frozenset()
    """The one-word Latin phrases: "arrest or jail" is one threat or mention, not two."""


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
    """The result of screening one text: every unnegated match, by category."""

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


_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
"""An HTML character reference ("&#101;", "&eacute;"): read as the character it names."""


def _source(text: str) -> list[tuple[int, str]]:
    """(source position, character) of `text` with HTML character references decoded: a
    collector's template may carry "arr&#101;sted", which every renderer shows as a word."""
    if "&" not in text:
        return list(enumerate(text))
    out: list[tuple[int, str]] = []
    at = 0
    for found in _ENTITY.finditer(text):
        out.extend((position, text[position]) for position in range(at, found.start()))
        decoded = html.unescape(found.group())
        if decoded == found.group():  # not a reference html knows: keep it as written
            out.extend((position, text[position]) for position in range(*found.span()))
        else:
            out.extend((found.start(), char) for char in decoded)
        at = found.end()
    out.extend((position, text[position]) for position in range(at, len(text)))
    return out


def _dropped(char: str) -> bool:
    """Characters removed from the compact form: spaces, punctuation, symbols, controls."""
    return unicodedata.category(char)[0] in "PZSC"


@lru_cache(maxsize=8192)
def _compacted(char: str) -> str:
    """One source character as the compact form reads it ('' when it is dropped)."""
    table = traditional_to_simplified()
    return "".join(table.get(ord(piece), piece)
                   for piece in unicodedata.normalize("NFKC", char).casefold()
                   if not _dropped(piece))


def compact(text: str) -> tuple[str, tuple[int, ...]]:
    """The compact form of `text` and, for each of its characters, the source position."""
    out: list[str] = []
    positions: list[int] = []
    for position, char in _source(text):
        for piece in _compacted(char):
            out.append(piece)
            positions.append(position)
    return "".join(out), tuple(positions)


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


_WEDGED = re.compile("(?<=[\u3400-\u9fff\uf900-\ufaff])[0-9A-Za-z]{1,2}"
                     "(?=[\u3400-\u9fff\uf900-\ufaff])")
"""One or two Latin letters or digits with a Chinese character on either side."""


def without_inserted_latin(form: tuple[str, Sequence[int]]) -> tuple[str, Sequence[int]]:
    """The compact form without one or two Latin letters or digits wedged between Chinese
    characters ("坐l牢", "坐1牢"): an insertion no reader notices."""
    text, positions = form
    wedged = [found.span() for found in _WEDGED.finditer(text)]
    if not wedged:
        return form
    bounds = [0, *(at for span in wedged for at in span), len(text)]
    kept = list(zip(bounds[::2], bounds[1::2], strict=True))  # the stretches between them
    return ("".join(text[start:end] for start, end in kept),
            tuple(p for start, end in kept for p in positions[start:end]))


# --- the Latin word form ------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _fold(char: str) -> str:
    """One source character as the word form reads it ('' when it is dropped)."""
    out: list[str] = []
    for piece in unicodedata.normalize("NFKC", char).casefold():
        for base in unicodedata.normalize("NFKD", piece):
            kind = unicodedata.category(base)
            if kind == "Mn" or kind == "Cf":  # accents; zero-width and other format characters
                continue
            out.append("'" if base == "\u2019" else base.translate(_LOOKALIKE))
    return "".join(out)


class Token:
    """One word of the word form, with the source position of each of its characters."""

    __slots__ = ("text", "positions", "boundary", "gap", "run")

    def __init__(self, text: str, positions: list[int], boundary: int, gap: int) -> None:
        self.text = text
        self.positions = positions
        self.boundary = boundary
        """Punctuation before the token: 0 none, 1 ends a clause, 2 ends a sentence."""
        self.gap = gap
        """Separator characters before the token (-1: a line break, or the text's start)."""
        self.run = False
        """The token joins single letters that were split apart."""


def _leet_mark(chars: list[tuple[str, int]], k: int, current: list[str]) -> bool:
    """'!' and '|' stand for a letter only between two letters or digits ("k!ll", "ja|l")."""
    return (
        bool(current)
        and current[-1].isalnum()
        and k + 1 < len(chars)
        and chars[k + 1][0].isalnum()
    )


def _flush(text: list[str], positions: list[int], boundary: int, gap: int) -> Token | None:
    while text and text[0] == "'":
        text, positions = text[1:], positions[1:]
    while text and text[-1] == "'":
        text, positions = text[:-1], positions[:-1]
    if not text:
        return None
    if any(char.isalpha() for char in text):
        text = [_LEET.get(char, char) for char in text]
    return Token("".join(text), positions, boundary, gap)


def _join_split_letters(tokens: list[Token]) -> list[Token]:
    """Join runs of single letters separated by a few separators into one token."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        j = i
        while (
            j + 1 < len(tokens)
            and len(tokens[j].text) == 1
            and len(tokens[j + 1].text) == 1
            and 0 < tokens[j + 1].gap <= _MAX_SPLIT_GAP
        ):
            j += 1
        run = tokens[i : j + 1]
        letters = sum(token.text.isalpha() for token in run)
        if len(run) >= _MIN_SPLIT_RUN and len(tokens[i].text) == 1 and letters >= 2:
            joined = Token(
                "".join(_LEET.get(t.text, t.text) for t in run),
                [p for t in run for p in t.positions],
                tokens[i].boundary,
                tokens[i].gap,
            )
            joined.run = True
            out.append(joined)
            i = j + 1
        else:
            out.append(tokens[i])
            i += 1
    return out


def _inserted_symbol(chars: list[tuple[str, int]], k: int, current: list[str]) -> bool:
    """An emoji or other pictograph inside a word ("arr😀ested"): dropped, as a reader
    skips it."""
    if not current or not current[-1].isalnum() or unicodedata.category(chars[k][0]) not in (
            "So", "Sk", "Co"):
        return False
    j = k + 1
    while j < len(chars) and unicodedata.category(chars[j][0]) in ("So", "Sk", "Co"):
        j += 1
    return j < len(chars) and chars[j][0].isalnum()


def _join_lines(text: str, found: list[Token]) -> list[Token]:
    """Words broken across lines joined ("arr-⏎ested", "a⏎r⏎r⏎e⏎s⏎t"): a word form read
    beside the one that keeps every line break."""
    out: list[Token] = []
    for token in found:
        between = text[out[-1].positions[-1] + 1:token.positions[0]] if out else ""
        if out and token.gap < 0 and ("\n" in between or "\r" in between) \
                and not between.strip(" \t\r\n-\u00ad") and out[-1].text.isalpha() \
                and token.text.isalpha():
            last = out[-1]
            joined = Token(last.text + token.text, last.positions + token.positions,
                           last.boundary, last.gap)
            joined.run = last.run or token.run
            out[-1] = joined
        else:
            out.append(token)
    return out


def tokens(text: str, *, join_lines: bool = False) -> list[Token]:
    """The words of `text` as the Latin screen reads them; `join_lines` joins the words that
    a line break splits (a second reading, never the only one)."""
    chars = [(char, position) for position, source in _source(text) for char in _fold(source)]
    found: list[Token] = []
    current: list[str] = []
    positions: list[int] = []
    boundary, gap = 0, -1
    spaced = False  # the previous separator was white space: a run of it counts once
    breaks = 0  # line breaks since the last word
    for k, (char, position) in enumerate(chars):
        if char.isalnum() or char in "'@$" or (char in "!|" and _leet_mark(chars, k, current)):
            current.append(char)
            positions.append(position)
            continue
        if _inserted_symbol(chars, k, current):
            continue
        if current:
            token = _flush(current, positions, boundary, gap)
            if token is not None:
                found.append(token)
                boundary = 0
            # A lone apostrophe ("y o u ' d") joins like a letter: the gap counts afresh.
            gap = 0 if token is not None or gap >= 0 else gap
            current, positions, spaced, breaks = [], [], False, 0
        if char == "\n":  # a wrapped line goes on; a blank line ends the sentence
            breaks += 1
            if breaks > 1:
                boundary = 2
        elif char in _SENTENCE_END and char != "\r":
            boundary = 2
        elif char in _CLAUSE_END and boundary < 1:
            boundary = 1
        space = char.isspace()
        if char in "\n\r" or gap < 0:
            gap = -1
        elif not (space and spaced):
            gap += 1
        spaced = space
    if current:
        token = _flush(current, positions, boundary, gap)
        if token is not None:
            found.append(token)
    joined = _join_split_letters(found)
    if join_lines:
        joined = _join_lines(text, joined)
    for token in joined:
        if not token.run and token.text in _TEXTESE:
            token.text = _TEXTESE[token.text]
    return joined


def words(text: str) -> str:
    """The padded word form of `text` (` word word `), as phrases are stored."""
    return " " + " ".join(token.text for token in tokens(text)) + " "


# --- negation scope (rules in packs/lexicons/negation.toml) --------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Negation:
    """The negation vocabulary, normalised like the text it is compared with."""

    en_negators: frozenset[str]
    en_suffix: str
    en_cues: frozenset[str]
    en_fillers: frozenset[str]
    en_conditions: tuple[tuple[str, ...], ...]
    en_temporal: tuple[tuple[str, ...], ...]
    en_reporting: frozenset[str]
    en_reporting_skip: frozenset[str]
    en_clause_joins: frozenset[str]
    en_lists: frozenset[str]
    zh_negators: tuple[str, ...]
    zh_cues: tuple[str, ...]
    zh_fillers: tuple[str, ...]
    zh_conditions: tuple[str, ...]
    zh_temporal: tuple[str, ...]
    zh_reporting: tuple[str, ...]

    def en_negates(self, word: str) -> bool:
        return word in self.en_negators or word.endswith(self.en_suffix)

    def en_cue(self, word: str) -> bool:
        return self.en_negates(word) or word in self.en_cues


def _word_list(raw: object, where: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError(f"negation.toml: {where} must be a list of strings")
    return list(raw)


def _phrase_words(phrase: str) -> tuple[str, ...]:
    return tuple(token.text for token in tokens(phrase))


@lru_cache(maxsize=1)
def negation() -> Negation:
    data = tomllib.loads(_read_text("negation.toml"))
    en: dict[str, Any] = data["en"]
    zh: dict[str, Any] = data["zh"]

    def zh_list(key: str) -> tuple[str, ...]:
        items = {compact(item)[0] for item in _word_list(zh[key], f"[zh].{key}")}
        return tuple(sorted(items, key=len, reverse=True))

    return Negation(
        en_negators=frozenset(
            w for item in _word_list(en["negators"], "[en].negators") for w in _phrase_words(item)
        ),
        en_suffix=words(str(en["negator_suffix"])).strip(),
        en_cues=frozenset(
            w for item in _word_list(en["cues"], "[en].cues") for w in _phrase_words(item)
        ),
        en_fillers=frozenset(
            w for item in _word_list(en["fillers"], "[en].fillers") for w in _phrase_words(item)
        ),
        en_conditions=tuple(
            _phrase_words(item) for item in _word_list(en["conditions"], "[en].conditions")
        ),
        en_temporal=tuple(
            _phrase_words(item) for item in _word_list(en["temporal"], "[en].temporal")
        ),
        en_reporting=frozenset(
            w for item in _word_list(en["reporting"], "[en].reporting")
            for w in _phrase_words(item)
        ),
        en_reporting_skip=frozenset(
            w for item in _word_list(en["reporting_skip"], "[en].reporting_skip")
            for w in _phrase_words(item)
        ),
        en_clause_joins=frozenset(
            w for item in _word_list(en["clause_joins"], "[en].clause_joins")
            for w in _phrase_words(item)
        ),
        en_lists=frozenset(
            w for item in _word_list(en["lists"], "[en].lists") for w in _phrase_words(item)
        ),
        zh_negators=zh_list("negators"),
        zh_cues=zh_list("cues"),
        zh_fillers=zh_list("fillers"),
        zh_conditions=zh_list("conditions"),
        zh_temporal=zh_list("temporal"),
        zh_reporting=zh_list("reporting"),
    )


def _occurrences(words_: list[str], phrase: tuple[str, ...]) -> Iterable[int]:
    """Word indexes at which `phrase` starts in `words_`."""
    if phrase[0] not in words_:
        return
    size = len(phrase)
    for i, word in enumerate(words_):
        if word == phrase[0] and tuple(words_[i : i + size]) == phrase:
            yield i


def _condition_negated(found: list[Token], index: int, negator: int, vocab: Negation) -> bool:
    """Whether the clause after a condition word, up to the phrase's own negator, is negated
    ("even if you do not pay, …")."""
    while index < len(found) and index != negator and not found[index].boundary:
        if vocab.en_cue(found[index].text):
            return True
        index += 1
    return False


def _latin_negated(found: list[Token], first: int, last: int, vocab: Negation,
                   category_words: frozenset[str] = frozenset()) -> bool:
    """Whether a negator governs the phrase spanning tokens [first, last] (negation.toml);
    one negator governs a list of the category's words ("will not be arrested or jailed")."""
    j = first
    while True:  # walk back over fillers to the word that governs the phrase
        if found[j].boundary or j == 0:
            return False
        j -= 1
        word = found[j].text
        if word not in vocab.en_fillers and not (
                category_words and (word in category_words or word in vocab.en_lists)):
            break
    negator = j
    if not vocab.en_negates(found[negator].text):
        return False
    k = negator
    while k > 0 and not found[k].boundary:  # double negation: the threat is asserted
        k -= 1
        if found[k].text in vocab.en_clause_joins:  # "we cannot and will not …"
            break
        gerund = k + 1 < negator and found[k + 1].text.endswith("ing")
        if vocab.en_cue(found[k].text) and not gerund:  # "not paying … is not a crime"
            return False
    start = first
    while start > 0 and found[start].boundary < 2:
        start -= 1
    end = last + 1
    while end < len(found) and found[end].boundary < 2:
        end += 1
    sentence = [token.text for token in found[start:end]]
    for phrase in vocab.en_temporal:  # outside the phrase: "sue you today" is not a limiter
        for at in _occurrences(sentence, phrase):
            if not first <= start + at <= last:
                return False
    for phrase in vocab.en_conditions:
        for at in _occurrences(sentence, phrase):
            if not _condition_negated(found, start + at + len(phrase), negator, vocab):
                return False
    return True


def _latin_reported(found: list[Token], first: int, vocab: Negation,
                    category_words: frozenset[str]) -> bool:
    """Whether the phrase is what someone is said to threaten or is forbidden to do ("may not
    threaten arrest or jail", "prohibited from threatening you with arrest"): a mention."""
    j = first
    while j > 0 and not found[j].boundary:
        j -= 1
        word = found[j].text
        if word in vocab.en_reporting:
            return True
        if word not in vocab.en_reporting_skip and word not in category_words:
            return False
    return False


def _zh_clause_start(text: str, position: int) -> int:
    while position > 0 and text[position - 1] not in _CLAUSE_END:
        position -= 1
    return position


def _zh_negated(text: str, start: int, end: int, vocab: Negation) -> bool:
    """Whether a negator governs the Chinese match text[start:end] (negation.toml)."""
    clause = _zh_clause_start(text, start)
    before, positions = compact(text[clause:start])
    stripped = True
    while stripped:
        stripped = False
        for filler in vocab.zh_fillers:
            if before.endswith(filler):
                before = before[: -len(filler)]
                stripped = True
                break
    if any(before.endswith(word) for word in vocab.zh_reporting):  # "威胁坐牢", "冒充公安局"
        return True
    negator = next((n for n in vocab.zh_negators if before.endswith(n)), None)
    if negator is None:
        return False
    rest = before[: -len(negator)]
    if any(n in rest for n in vocab.zh_negators + vocab.zh_cues):
        return False
    negator_at = clause + positions[len(rest)]
    sentence_start = start
    while sentence_start > 0 and text[sentence_start - 1] not in _SENTENCE_END:
        sentence_start -= 1
    sentence_end = end
    while sentence_end < len(text) and text[sentence_end] not in _SENTENCE_END:
        sentence_end += 1
    sentence, where = compact(text[sentence_start:sentence_end])
    if any(word in sentence for word in vocab.zh_temporal):
        return False
    for word in vocab.zh_conditions:
        at = sentence.find(word)
        while at >= 0:
            after = sentence_start + where[at + len(word) - 1] + 1
            stop = after
            while stop < len(text) and text[stop] not in _CLAUSE_END and stop != negator_at:
                stop += 1
            condition = compact(text[after:stop])[0]
            if not any(n in condition for n in vocab.zh_negators + vocab.zh_cues):
                return False
            at = sentence.find(word, at + 1)
    return True


# --- lexicons and the screen --------------------------------------------------------------------


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The zh and en lexicons shipped with the packs, loaded on first use."""
    return load_lexicon(("en.toml", "zh.toml"))


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError(f"{where} must be a list of strings")
    return tuple(raw)


def load_lexicon(files: tuple[str, ...]) -> Lexicon:
    categories: list[Category] = []
    for name in files:
        data = tomllib.loads(_read_text(name))
        for key, raw in data.items():
            if not isinstance(raw, dict) or not isinstance(raw.get("phrases"), list):
                raise ValueError(f"{name}: [{key}] needs a list of phrases")
            refs = _strings(raw.get("refs"), f"{name}: [{key}].refs")
            if not refs:
                raise ValueError(f"{name}: [{key}].refs must name the rule ids it serves")
            phrases = _strings(raw["phrases"], f"{name}: [{key}].phrases")
            exceptions = _strings(raw.get("except_within", []), f"{name}: [{key}].except_within")
            for is_compact in (True, False):
                mine = tuple(dict.fromkeys(p for p in phrases if _is_cjk(p) == is_compact))
                if not mine:
                    continue
                form = (lambda p: compact(p)[0]) if is_compact else words
                categories.append(
                    Category(
                        name=key,
                        forbidden=bool(raw.get("forbidden", False)),
                        negatable=bool(raw.get("negatable", False)),
                        refs=refs,
                        label_en=str(raw.get("label_en", key)),
                        label_zh=str(raw.get("label_zh", key)),
                        phrases=mine,
                        normalized=tuple(form(p) for p in mine),
                        compact=is_compact,
                        except_within=tuple(
                            form(e) for e in exceptions if _is_cjk(e) == is_compact
                        ),
                        joined=()
                        if is_compact
                        else tuple(words(p).replace(" ", "").replace("'", "") for p in mine),
                        words=frozenset()
                        if is_compact
                        else frozenset(p for p in (words(p).strip() for p in mine)
                                       if " " not in p),
                    )
                )
    return Lexicon(categories=tuple(categories))


def _excepted(haystack: str, at: int, size: int, exceptions: tuple[str, ...]) -> bool:
    for exception in exceptions:
        found = haystack.find(exception, max(0, at - len(exception) + 1))
        while 0 <= found <= at:
            if found + len(exception) >= at + size:
                return True
            found = haystack.find(exception, found + 1)
    return False


def _occurrences_in(
    category: Category,
    text: str,
    compact_form: tuple[str, Sequence[int]],
    word_form: tuple[str, list[int], list[Token], list[Token]],
    vocab: Negation,
    numbers: Iterable[int] | None = None,
) -> list[tuple[str, int, int, bool]]:
    """(phrase, start, end, negated) for every occurrence of the category's phrases (of those
    at `numbers`, when given)."""
    out: list[tuple[str, int, int, bool]] = []
    compact_text, compact_pos = compact_form
    word_text, starts, found_tokens, runs = word_form
    for number in range(len(category.phrases)) if numbers is None else numbers:
        phrase, needle = category.phrases[number], category.normalized[number]
        if not needle.strip():
            continue
        if category.compact:
            at = compact_text.find(needle)
            while at >= 0:
                if not _excepted(compact_text, at, len(needle), category.except_within):
                    start, end = compact_pos[at], compact_pos[at + len(needle) - 1] + 1
                    negated = category.negatable and _zh_negated(text, start, end, vocab)
                    out.append((phrase, start, end, negated))
                at = compact_text.find(needle, at + 1)
            continue
        at = word_text.find(needle)
        while at >= 0:
            first = bisect_right(starts, at + 1) - 1
            last = bisect_right(starts, at + len(needle) - 2) - 1
            if not _excepted(word_text, at, len(needle), category.except_within):
                negated = category.negatable and (
                    _latin_reported(found_tokens, first, vocab, category.words)
                    or _latin_negated(found_tokens, first, last, vocab, category.words))
                start = found_tokens[first].positions[0]
                out.append((phrase, start, found_tokens[last].positions[-1] + 1, negated))
            at = word_text.find(needle, at + 1)
        joined = category.joined[number]
        for token in runs:
            inside = token.text.find(joined)
            if inside >= 0:  # no word boundaries inside a split run: negation unreadable
                start = token.positions[inside]
                out.append((phrase, start, token.positions[inside + len(joined) - 1] + 1, False))
    return out


def _word_form(found_tokens: list[Token]) -> tuple[str, list[int], list[Token], list[Token]]:
    starts: list[int] = []
    offset = 1
    for token in found_tokens:
        starts.append(offset)
        offset += len(token.text) + 1
    word_text = " " + " ".join(token.text for token in found_tokens) + " "
    return word_text, starts, found_tokens, [t for t in found_tokens if t.run]


@dataclass(frozen=True, slots=True, eq=False)
class _Needles:
    """A lexicon's phrases by what a text must hold for them to occur in it: every character
    of the phrase's form (compact, or word form), and for a Latin phrase each of its words
    (or all of them run together, as in a split-letter run) within the text's letters and
    digits read with separators dropped. Each phrase is filed under one of its characters
    (`by_anchor`) as (category index, phrase number, compact?, characters needed, words,
    run)."""

    by_anchor: dict[str, tuple[tuple[int, int, bool, frozenset[str], tuple[str, ...], str],
                               ...]]


_LATIN_BY_FREQUENCY = {char: rank for rank, char in enumerate("etaoinsrhldcumfpgwybvkxjqz")}
_TEXTESE_WORDS = frozenset(_TEXTESE.values())
"""Words a text-message spelling stands for: the text need not hold them as written."""


def _needles(lexicon: Lexicon) -> _Needles:
    entries: dict[str, list[tuple[int, int, bool, frozenset[str], tuple[str, ...], str]]] = {}
    for index, category in enumerate(lexicon.categories):
        for number, needle in enumerate(category.normalized):
            needed = frozenset(needle) - {" "}
            if not needed:
                continue
            words = tuple(word for word in needle.split() if word not in _TEXTESE_WORDS)
            run = "" if category.compact else category.joined[number]
            # Filed under its least common character, so that few phrases are tried.
            anchor = max(needed, key=lambda c: (_LATIN_BY_FREQUENCY.get(c, 99), c))
            entries.setdefault(anchor, []).append((index, number, category.compact, needed,
                                                   words, run))
    return _Needles(by_anchor={char: tuple(found) for char, found in entries.items()})


class _Readable(dict[str, tuple[str, str]]):
    """Per source character, the characters it can become in the compact form and in the
    word form (leetspeak read as letters included); filled as characters are met."""

    def __missing__(self, char: str) -> tuple[str, str]:
        folded = _fold(char)
        found = self[char] = (_compacted(char),
                              folded + "".join(_LEET.get(piece, "") for piece in folded))
        return found


class _Folded(dict[int, str]):
    """`str.translate` table of `_fold`, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        found = self[code] = _fold(chr(code))
        return found


_READABLE = _Readable()
_FOLDED = _Folded()
_NOT_IN_WORDS = re.compile(r"[^\w'@$!|]|_")
"""What never stands inside a word of the word form (separators, and symbols it skips)."""
_LEET_TABLE = str.maketrans(_LEET)


def _candidates(text: str, needles: _Needles) -> dict[int, list[int]] | None:
    """Category index → the numbers of its phrases that can occur in `text`; None when every
    phrase must be looked for (HTML references decode to characters the text does not
    show)."""
    if "&" in text:
        return None
    readable = [_READABLE[char] for char in set(text)]
    compact_chars = set("".join(as_compact for as_compact, _ in readable))
    word_chars = set("".join(as_word for _, as_word in readable))
    word_chars.add("'")  # a split-letter run matches a phrase without its apostrophes
    grown = True
    while grown:  # text-message spellings are read as words ("u" as "you")
        before = len(word_chars)
        for short, long in _TEXTESE.items():
            if set(short) <= word_chars:
                word_chars.update(long)
        grown = len(word_chars) > before
    letters: tuple[str, str] | None = None  # the text's word characters, as is and as leet
    found: dict[int, list[int]] = {}
    for char in compact_chars | word_chars:
        for index, number, is_compact, needed, words, run in needles.by_anchor.get(char, ()):
            if not needed <= (compact_chars if is_compact else word_chars):
                continue
            if not is_compact:
                if letters is None:
                    plain = _NOT_IN_WORDS.sub("", text.translate(_FOLDED))
                    letters = (plain, plain.translate(_LEET_TABLE))
                if not (all(word in letters[0] or word in letters[1] for word in words)
                        or run in letters[1]):
                    continue
            found.setdefault(index, []).append(number)
    for numbers in found.values():
        numbers.sort()
    return found


class _CompactPositions(Sequence[int]):
    """The source position of each character of a text's compact form, worked out when
    first asked for: a text with no match never needs them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.positions: list[int] | None = None

    def _all(self) -> list[int]:
        if self.positions is None:
            self.positions = [position for position, char in enumerate(self.text)
                              for _ in range(len(_compacted(char)))]
        return self.positions

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __iter__(self) -> Iterator[int]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _Compacted(dict[int, str]):
    """`str.translate` table of `_compacted`, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        found = self[code] = _compacted(chr(code))
        return found


_COMPACTED = _Compacted()


def _compact_form(text: str) -> tuple[str, Sequence[int]]:
    """`compact(text)`, the positions worked out only if asked for."""
    if "&" in text:  # HTML references: `compact` reads them as the characters they name
        return compact(text)
    return text.translate(_COMPACTED), _CompactPositions(text)


def _screen(text: str, lexicon: Lexicon, needles: _Needles | None = None) -> Screen:
    """`screen`; with `needles` (the lexicon's, `_needles`), only the phrases whose characters
    the text can hold are looked for, with the same result."""
    vocab = negation()
    candidates = None if needles is None else _candidates(text, needles)
    compact_forms = [compact(text) if needles is None else _compact_form(text)]
    wedged = without_inserted_latin(compact_forms[0])
    if wedged is not compact_forms[0]:
        compact_forms.append(wedged)
    latin = candidates is None or any(not lexicon.categories[index].compact
                                      for index in candidates)
    word_forms = [_word_form(tokens(text)) if latin else ("", [], [], [])]
    if latin and ("\n" in text or "\r" in text):
        joined = tokens(text, join_lines=True)
        if len(joined) != len(word_forms[0][2]):
            word_forms.append(_word_form(joined))
    found: list[WordMatch] = []
    for index, category in enumerate(lexicon.categories):
        numbers = None if candidates is None else candidates.get(index)
        if candidates is not None and numbers is None:
            continue
        occurrences = _occurrences_in(category, text, compact_forms[0], word_forms[0], vocab,
                                      numbers)
        if category.compact:
            for extra in compact_forms[1:]:
                occurrences += _occurrences_in(category, text, extra, word_forms[0], vocab,
                                               numbers)
        else:
            for extra_words in word_forms[1:]:  # only what the joined line breaks found
                occurrences += [
                    o for o in _occurrences_in(category, text, compact_forms[0], extra_words,
                                               vocab, numbers)
                    if "\n" in text[o[1]:o[2]] or "\r" in text[o[1]:o[2]]]
        # A phrase inside a negated longer phrase of its category shares that negation
        # ("no arrest warrant": "warrant" is negated with "arrest warrant").
        negated = [(start, end) for _, start, end, no in occurrences if no]
        reported: dict[str, tuple[int, int]] = {}
        for phrase, start, end, no in occurrences:
            if no or any(s <= start and end <= e for s, e in negated):
                continue
            if phrase not in reported or start < reported[phrase][0]:
                reported[phrase] = (start, end)
        found.extend(
            WordMatch(
                category=category.name,
                phrase=phrase,
                matched=text[start:end],
                start=start,
                end=end,
            )
            for phrase, (start, end) in reported.items()
        )
    found.sort(key=lambda m: (m.start, m.category, m.phrase))
    return Screen(tuple(found))


@lru_cache(maxsize=1)
def _default_needles() -> _Needles:
    return _needles(default_lexicon())


@lru_cache(maxsize=16384)
def _screen_default(text: str) -> Screen:
    return _screen(text, default_lexicon(), _default_needles())


def screen(text: str, lexicon: Lexicon | None = None) -> Screen:
    """Every lexicon phrase found unnegated in `text` (first such occurrence of each phrase).

    Screens of the default lexicon are memoised by text: a dialer asks about the same script
    for every number in turn.
    """
    if not text:
        return Screen(())
    if lexicon is None:
        return _screen_default(text)
    return _screen(text, lexicon)
