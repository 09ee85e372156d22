"""The wording screen: find lexicon phrases in message content and collector scripts, in context.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import accumulate, chain, compress, groupby, repeat
from typing import Any, NamedTuple, TypeVar

from arrears.compliance.model import WordMatch

_LEXICON_PACKAGE = "arrears.compliance.packs.lexicons"
_K = TypeVar("_K")
_T = TypeVar("_T")

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


class _Compacted(dict[int, str]):
    """`str.translate` table of `_compacted`, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        found = self[code] = _compacted(chr(code))
        return found


_COMPACTED = _Compacted()


class _CompactWidths(dict[int, str]):
    """`str.translate` table of how many characters each character is in the compact form,
    as a character (chr(0) when dropped); filled as characters are met."""

    def __missing__(self, code: int) -> str:
        found = self[code] = chr(len(_compacted(chr(code))))
        return found


_COMPACT_WIDTHS = _CompactWidths()


def _compact_positions(text: str) -> list[int]:
    """The source position of each character of the compact form of `text` (a text without
    HTML references)."""
    widths = text.translate(_COMPACT_WIDTHS).encode("latin-1")
    if not widths.strip(b"\0\1"):  # no character became two ("㈱")
        return list(compress(range(len(text)), widths))
    return list(chain.from_iterable(map(repeat, range(len(text)), widths)))


def compact(text: str) -> tuple[str, tuple[int, ...]]:
    """The compact form of `text` and, for each of its characters, the source position."""
    if "&" not in text:
        compacted = text.translate(_COMPACTED)
        return compacted, tuple(_compact_positions(text))
    out: list[str] = []
    positions: list[int] = []
    for position, char in _source(text):
        for piece in _compacted(char):
            out.append(piece)
            positions.append(position)
    return "".join(out), tuple(positions)


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


_DOUBLED_HAN = re.compile("([\u3400-\u9fff\uf900-\ufaff])\\1+")
"""A Chinese character written twice or more in a row."""


def without_doubled_han(form: tuple[str, Sequence[int]]) -> tuple[str, Sequence[int]]:
    """The compact form with each Chinese character written several times in a row read once,
    at the first of them ("通知你单单位"): a phrase drawn out to dodge a screen. Read beside
    the form as written, for the phrases that form holds unnegated nowhere, and only where a
    run is inside the phrase, after its first character: a word doubled in earnest ("天天",
    "谢谢") is read as it is, and a phrase that begins with the last character of the word
    before it ("绝不" + "不会放过你") is not taken to begin there."""
    text, positions = form
    kept = [at for at in range(len(text))
            if not (at and text[at] == text[at - 1] and _is_han(text[at]))]
    return ("".join(text[at] for at in kept),
            tuple(positions[at] for at in kept) if len(positions) == len(text) else positions)


def _doubled_at(form: tuple[str, Sequence[int]]) -> frozenset[int]:
    """The source position of the first character of each run `without_doubled_han` reads
    once."""
    text, positions = form
    if len(positions) != len(text):  # no Chinese phrase asked for them
        return frozenset()
    return frozenset(positions[found.start()] for found in _DOUBLED_HAN.finditer(text))


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
            tuple(chain.from_iterable(positions[start:end] for start, end in kept)))


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

    __slots__ = ("text", "positions", "boundary", "gap", "run", "ends", "written")

    def __init__(self, text: str, positions: list[int], boundary: int, gap: int) -> None:
        self.text = text
        self.positions = positions
        self.boundary = boundary
        """Punctuation before the token: 0 none, 1 ends a clause, 2 ends a sentence."""
        self.gap = gap
        """Separator characters before the token (-1: a line break, or the text's start)."""
        self.run = False
        """The token joins single letters that were split apart."""
        self.ends: list[int] | None = None
        """Set on a split-letter run read squeezed (`_squeezed_runs`): the source position of
        the last letter each of its letters stands for."""
        self.written: str | None = None
        """The word as written where `text` reads a text-message spelling ("u" for "you")."""


_WordForm = tuple[str, list[int], list[Token], list[Token]]
"""A word form: its text (" word word "), where each word starts in it, the words, and the
split-letter runs among them."""


@lru_cache(maxsize=8192)
def _skippable(char: str) -> bool:
    """An emoji or other pictograph, which a reader skips inside a word ("arr😀ested")."""
    return unicodedata.category(char) in ("So", "Sk", "Co")


class _Folded(dict[int, str]):
    """`str.translate` table of `_fold`, filled as characters are met. It notes the
    characters met that do not fold to exactly one (`uneven`) and those that fold to a
    pictograph (`pictographs`), so that a text without them is read the short way."""

    def __init__(self) -> None:
        super().__init__()
        self.uneven: set[str] = set()
        self.pictographs: set[str] = set()

    def __missing__(self, code: int) -> str:
        found = self[code] = _fold(chr(code))
        if len(found) != 1:
            self.uneven.add(chr(code))
        if any(_skippable(piece) for piece in found):
            self.pictographs.add(chr(code))
        return found


_FOLDED = _Folded()
_LEET_TABLE = str.maketrans(_LEET)


@lru_cache(maxsize=256)
def _word_pattern(skipped: str) -> re.Pattern[str]:
    """A word of the word form: letters and digits, with `'`, `@` and `$`; `!` or `|` between
    two letters or digits ("k!ll", "ja|l"); and, between two letters or digits, runs of the
    `skipped` characters (the pictographs of the text at hand, which the word drops)."""
    inside = r"|(?<=[^\W_])[!|](?=[^\W_])"
    if skipped:
        inside += f"|(?<=[^\\W_])[{re.escape(skipped)}]+(?=[^\\W_])"
    return re.compile(rf"(?:[^\W_]|['@$]{inside})+")


def _pictographs(folded: str) -> str:
    return "".join(sorted(char for char in set(folded) if _skippable(char)))


def _folded(text: str) -> tuple[str, list[int] | None, str]:
    """`text` as the word form reads it, character by character; the source position of
    each of its characters (None: the same as its own position, the common case); and the
    pictographs in it."""
    if "&" in text:  # HTML references: read as the characters they name
        pairs = [(position, char) for position, source in _source(text)
                 for char in _fold(source)]
        folded = "".join(char for _, char in pairs)
        return folded, [position for position, _ in pairs], _pictographs(folded)
    folded = text.translate(_FOLDED)  # which notes every character of `text` it meets
    pictographs = "" if _FOLDED.pictographs.isdisjoint(text) else _pictographs(folded)
    if _FOLDED.uneven.isdisjoint(text):
        return folded, None, pictographs
    return folded, [position for position, char in enumerate(text)
                    for _ in _FOLDED[ord(char)]], pictographs


def _read_words(text: str) -> tuple[list[Token], bool]:
    """The words of `text`, with the punctuation (`boundary`) and separators (`gap`) before
    each, before split letters and broken lines are joined; and whether three one-character
    words follow each other (False: there are no split letters to join)."""
    folded, where, skipped = _folded(text)
    as_leet = folded.translate(_LEET_TABLE)  # what a word of letters reads as
    found: list[Token] = []
    boundary, gap = 0, -1
    spaced = False  # the previous separator was white space: a run of it counts once
    breaks = 0  # line breaks since the last word
    singles = 0  # one-character words in a row
    split = False
    at = 0
    for word in _word_pattern(skipped).finditer(folded):
        start, end = word.span()
        if start - at == 1 and folded[at] == " ":  # the common separator, as read below
            if gap >= 0 and not spaced:
                gap += 1
            spaced = True
        else:
            for char in folded[at:start]:
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
        at = end
        letters = word.group()
        positions = list(range(start, end)) if where is None else where[start:end]
        if letters.isalnum():  # most words: `_token` without apostrophes or pictographs
            # Leetspeak is read in a word with a letter. A word of numerals may still hold
            # one: a Han character can be both (漆, 拾 are financial numerals).
            numbers = letters.isnumeric() and not any(map(str.isalpha, letters))
            found.append(Token(letters if numbers else as_leet[start:end],
                               positions, boundary, gap))
            boundary, gap, spaced, breaks = 0, 0, False, 0
            singles = singles + 1 if end - start == 1 else 0
            split = split or singles >= _MIN_SPLIT_RUN
            continue
        if skipped:  # pictographs inside the word are dropped
            kept = [k for k, char in enumerate(letters) if char not in skipped]
            letters = "".join(letters[k] for k in kept)
            positions = [positions[k] for k in kept]
        token = _token(letters, positions, boundary, gap)
        if token is not None:
            found.append(token)
            boundary = 0
            singles = singles + 1 if len(token.text) == 1 else 0
            split = split or singles >= _MIN_SPLIT_RUN
        # A lone apostrophe ("y o u ' d") joins like a letter: the gap counts afresh.
        gap = 0 if token is not None or gap >= 0 else gap
        spaced, breaks = False, 0
    return found, split


def _token(letters: str, positions: list[int], boundary: int, gap: int) -> Token | None:
    """The word without its outer apostrophes, leetspeak read as letters if it has any."""
    text = letters.strip("'")
    if not text:
        return None
    if len(text) != len(letters):
        lead = len(letters) - len(letters.lstrip("'"))
        positions = positions[lead:lead + len(text)]
    if text.isalpha() or any(map(str.isalpha, text)):
        text = text.translate(_LEET_TABLE)
    return Token(text, positions, boundary, gap)


def _join_split_letters(tokens: list[Token]) -> list[Token]:
    """Join runs of single letters separated by a few separators into one token."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        if len(tokens[i].text) != 1:  # no run starts here
            out.append(tokens[i])
            i += 1
            continue
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


_MAX_FRAGMENTS = 16
_MIN_JOINED = 3
"""A word broken into at most `_MAX_FRAGMENTS` pieces ("ja il", "a rr es t", "s ue") is read
whole when it is a lexicon word of at least `_MIN_JOINED` letters."""
_MAX_WHOLE_READINGS = 8
"""Readings of one word each made whole (`_join_fragments`): a text of many is not screened
once for each of them."""
_SHORT_WORDS = frozenset((
    "a", "i", "u", "r", "s", "t", "d", "m", "o", "an", "am", "as", "at", "be", "by", "do",
    "go", "he", "hi", "if", "in", "is", "it", "me", "my", "no", "of", "oh", "ok", "on", "or",
    "so", "to", "up", "us", "we", "ll", "re", "ve", "pm", "id", "vs", "eg", "ie", "st", "nd",
    "rd", "th", "mr", "ms", "dr"))
"""Words of a letter or two as they are written ("a", "on", "u" for "you", "s" and "ll" left
of "it's" and "we'll", "U.S"): a word is not read as broken into pieces that are all words,
two ordinary words in a row ("worth less", "on line", "a way", "to day") being no evasion."""


def _fragment_words(lexicon: Lexicon) -> frozenset[str]:
    """What `_join_fragments` reads a word in pieces as: the lexicon's Latin phrase words of at
    least `_MIN_JOINED` letters, and negation.toml's cues, conditions and temporal limiters
    (which can make a negated phrase a threat again: "un less"), each as " word"; every
    beginning of one, for the walk to stop early; and, for pieces with a letter drawn out ("a
    mmmount"), every beginning of one squeezed (`_squeezed`), as "~beginning"."""
    words = {word for word in chain(_latin_words(lexicon), negation().en_cues)
             if len(word) >= _MIN_JOINED}
    return frozenset(chain(
        (f" {word}" for word in words),
        (word[:end] for word in words for end in range(1, len(word))),
        (f"~{_squeezed(word[:end])}" for word in words for end in range(1, len(word) + 1))))


_ENDINGS = frozenset(("s", "t", "d", "m", "ll", "re", "ve"))
"""What follows the apostrophe of a possessive or a contraction ("sheriff's", "we'll")."""


def _bare(text: str, token: Token) -> str:
    """The token's letters as a piece of a broken word: as written ("r u in" is "ruin" too),
    an apostrophe dropped unless a possessive's or a contraction's ("ja'il", not "it's")."""
    letters = token.written or token.text
    if "'" not in letters:
        return letters
    after = token.positions[letters.rindex("'") + 1:] if len(token.positions) == len(
        letters) else ()
    if "".join(text[at] for at in after).lower() in _ENDINGS:
        return letters
    return letters.replace("'", "")


def _spaced(text: str, before: Token, piece: Token) -> bool | None:
    """How `piece` follows `before` if as the next piece of a broken word: after a few
    separators in the same clause ("ja il", "ja-il": True), or a few punctuation marks with
    spaces around them on the same line ("ja , il", "ja . il": True), or after a few
    characters of any kind with no space among them ("ja.il", "ja...il", "ja(il": False);
    None if not so."""
    between = text[before.positions[-1] + 1:piece.positions[0]]
    if 0 < len(between) <= _MAX_SPLIT_GAP and not any(map(str.isspace, between)):
        return False
    if piece.boundary == 0 and 0 < piece.gap <= _MAX_SPLIT_GAP:
        return True
    marks = between.strip()
    if 0 < len(marks) <= _MAX_SPLIT_GAP and len(between) <= _MAX_SPLIT_GAP + 2 and not any(
            char.isalnum() or char.isspace() for char in marks) and "\n" not in between \
            and "\r" not in between:
        return True
    return None


_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz'")


def _lower(text: str, token: Token) -> bool:
    """Whether the token is written in lower-case Latin letters alone: a piece of a broken
    word is, where a name ("Kim Ja Il", "Li Ar", "C Rook"), an abbreviation ("AR rests") or a
    reference ("JA-1L", "CO-PS-2231") is not."""
    return all(text[at] in _LOWER for at in token.positions)


def _fragment(text: str, token: Token) -> bool:
    """Whether the token is no word of its own but a piece of one: a letter or two as written
    that are not among `_SHORT_WORDS` ("ja", "rr", "l")."""
    return len(token.positions) <= 2 and \
        "".join(text[at] for at in token.positions) not in _SHORT_WORDS


_TIGHT = re.compile(r"[a-z'][^\sa-zA-Z0-9']{1,3}[a-z']|[a-z]'[a-z]")
"""Lower-case letters parted by a few characters with no space among them, or by an
apostrophe: where a word in pieces may be read whole whatever its pieces."""
_SHORT = re.compile(r"(?<![a-zA-Z0-9'])[a-z]{1,2}(?![a-zA-Z0-9'])")
"""A word of a letter or two in lower case: a `_fragment` if it is no short word."""


def _may_join(text: str) -> bool:
    """Whether `_join_fragments` could read a word whole in `text`: there is a `_TIGHT` place
    or a `_fragment` (most texts have neither, and are not read a word at a time for it)."""
    return _TIGHT.search(text) is not None or any(
        short.group() not in _SHORT_WORDS for short in _SHORT.finditer(text))


def _join_fragments(text: str, found: Sequence[Token], fragments: frozenset[str],
                    spellings: dict[str, tuple[str, ...]]) -> list[list[Token]]:
    """The words of `text` with each lexicon word broken into pieces ("you will go to ja il",
    "a rr es ted", "ja.il", "ja'il") read whole: readings screened beside the others, never
    the only one; none if no word was broken so. Pieces are a word's only where they cannot
    be words of their own: each is in lower case (`_lower`), and one of them is a
    `_fragment` or punctuation with no space parts them. Pieces with a letter drawn out are
    read as the word they stretch (`_read_drawn_out`). One reading takes every such word it
    can, from the left, the longest first; and as pieces may make several ("b lack list":
    "black" or "blacklist"; "low l ife": "lowlife" or "life"), each of the first
    `_MAX_WHOLE_READINGS` is a reading of its own as well."""
    if not _may_join(text):
        return []
    wholes: list[tuple[int, int, str]] = []  # (first piece, last piece, the word)
    # A letter, not a digit, three times ("555"), as written or across pieces ("p a a a y").
    drawn = any(_drawn_out(text.lower())) or any(_drawn_out("".join(t.text for t in found)))

    def begins(letters: str) -> bool:  # the beginning of a word `fragments` holds
        return letters in fragments or drawn and f"~{_squeezed(letters)}" in fragments

    for i, token in enumerate(found):
        letters = _bare(text, token)
        if not begins(letters) and f" {letters}" not in fragments or not letters.isalpha() \
                or not _lower(text, token):
            continue
        if letters != token.text and f" {letters}" in fragments:  # "ja'il"
            wholes.append((i, i, letters))
        evasive = False
        for k in range(i + 1, min(i + _MAX_FRAGMENTS, len(found))):
            piece = found[k]
            more = _bare(text, piece)
            spaced = _spaced(text, found[k - 1], piece) \
                if more.isalpha() and _lower(text, piece) else None
            if spaced is None:
                break
            evasive = evasive or not spaced or _fragment(text, piece) or (
                k == i + 1 and _fragment(text, token))
            letters += more
            if evasive and f" {letters}" in fragments:
                wholes.append((i, k, letters))
            elif evasive and drawn and any(_drawn_out(letters)) \
                    and _squeezed(letters) in spellings:
                read = Token(letters, list(range(len(letters))), 0, 0)
                _read_drawn_out([read], spellings)
                if f" {read.text}" in fragments:
                    wholes.append((i, k, read.text))
            if not begins(letters):
                break
    if not wholes:
        return []
    from_left: list[tuple[int, int, str]] = []
    for whole in sorted(wholes, key=lambda w: (w[0], -w[1])):
        if not from_left or whole[0] > from_left[-1][1]:
            from_left.append(whole)
    readings = [_with_wholes(found, from_left)] + [
        _with_wholes(found, [whole]) for whole in wholes[:_MAX_WHOLE_READINGS]
        if [whole] != from_left]
    if drawn:  # another word drawn out ("a dddebt c*ollector"), read as in the other readings
        for reading in readings:
            _read_drawn_out([token for token in reading if any(_drawn_out(token.text))],
                            spellings)
    return readings


def _with_wholes(found: Sequence[Token], wholes: list[tuple[int, int, str]]) -> list[Token]:
    """`found` with the pieces of each of `wholes` (in order, apart) as one word."""
    # Copies: a drawn-out word is read later in place, in the words the other readings hold.
    out = [_copy(token) for token in found[:wholes[0][0]]]
    for number, (first, last, text) in enumerate(wholes):
        pieces = found[first:last + 1]
        # A word, not a split-letter run, though pieces were: only its first and last
        # positions are read, where a match starts and ends.
        out.append(Token(text, [at for piece in pieces for at in piece.positions],
                         pieces[0].boundary, pieces[0].gap))
        out.extend(_copy(token) for token in found[
            last + 1:wholes[number + 1][0] if number + 1 < len(wholes) else None])
    return out


def _readings(text: str) -> tuple[list[Token], list[Token] | None, list[Token]]:
    """`tokens(text)` and, when the text breaks lines, `tokens(text, join_lines=True)`, from
    one reading of the text; and its words before split letters are joined, in which
    `_join_fragments` looks for a word in pieces ("a c r ime" holds "crime")."""
    found, split = _read_words(text)
    pieces = found
    if split:
        found = _join_split_letters(found)
    joined = _join_lines(text, found) if "\n" in text or "\r" in text else None
    # The two lists share the words no line break joined; "you" is no spelling of its own.
    for token in chain(found, joined or ()):
        if not token.run and token.text in _TEXTESE:
            token.written, token.text = token.text, _TEXTESE[token.text]
    return found, joined, pieces


_TRIPLE = re.compile(r"(\w)\1\1")  # a letter class in it makes the search 15 times slower


def _drawn_out(text: str) -> Iterator[re.Match[str]]:
    """Each letter three times in a row: a word drawn out to dodge a screen ("arrrrested",
    "jaaail", "leeegal"), or one that reads so ("will" reads "wiii": l and i are one letter),
    which `_read_drawn_out` leaves as it is."""
    return (found for found in _TRIPLE.finditer(text) if found.group(1).isalpha())


def _squeezed(word: str) -> str:
    """`word` with each run of one letter written once ("arrested" → "arested")."""
    return "".join(char for char, _ in groupby(word))


def _run_lengths(word: str) -> list[int]:
    return [len(list(run)) for _, run in groupby(word)]


def _latin_words(lexicon: Lexicon) -> Iterator[str]:
    """The words of the lexicon's Latin phrases, and of negation.toml's English temporal
    limiters and conditions."""
    vocab = negation()
    for phrase in chain((needle for category in lexicon.categories if not category.compact
                         for needle in category.normalized),
                        (" ".join(words) for words in chain(vocab.en_temporal,
                                                            vocab.en_conditions))):
        yield from phrase.split()


def _by_squeezed(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """`words` by their squeezed letters (`_squeezed`)."""
    found: dict[str, set[str]] = {}
    for word in words:
        found.setdefault(_squeezed(word), set()).add(word)
    return {key: tuple(sorted(words)) for key, words in found.items()}


def _spellings(lexicon: Lexicon) -> dict[str, tuple[str, ...]]:
    """The words of the lexicon's Latin phrases, by their squeezed letters; and negation.toml's
    negators, cues, conditions and temporal limiters, which can make a negated phrase a threat
    again ("we won't have you arrested yyyet", "may nnnot threaten no court"). Reading one
    that hides a phrase hides nothing: the words as written are screened too."""
    vocab = negation()
    return _by_squeezed(chain(_latin_words(lexicon), vocab.en_negators, vocab.en_cues))


def _spelled(spellings: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """The words `spellings` holds, as the word form reads them."""
    return frozenset(word for words in spellings.values() for word in words)


def _read_drawn_out(found: Iterable[Token], spellings: dict[str, tuple[str, ...]],
                    pick: Callable[[list[tuple[int, str]]], tuple[int, str]] = max) -> bool:
    """Read each drawn-out word as the lexicon word it stretches, if one: the same letters in
    the same order, each run at least as long as the word's ("arrrrested" reads "arrested",
    keeping the source positions of the letters it keeps, so a match still spans the whole
    drawn-out word; "aresssted" is not "arrested"). Of several such words the longest is read
    (`pick`), so a lexicon word as written reads as itself. Whether any word stretched more
    than one ("offf": "off" and "of")."""
    several = False
    for token in found:
        if not any(_drawn_out(token.text)):
            continue
        mine = _run_lengths(token.text)
        fitting = [(len(word), word) for word in spellings.get(_squeezed(token.text), ())
                   if all(m >= t for m, t in zip(mine, _run_lengths(word), strict=True))]
        if fitting:
            several = several or len(fitting) > 1
            _, word = pick(fitting)
            theirs = _run_lengths(word)
            # Of each run, its first letters and its last: a match ends where the word does.
            starts = accumulate(mine, initial=0)
            token.positions = [token.positions[at + (k if k < keep - 1 else size - 1)]
                               for at, size, keep in zip(starts, mine, theirs, strict=False)
                               for k in range(keep)]
            token.text = word
    return several


def _squeezed_runs(found: Iterable[Token]) -> list[Token]:
    """The split-letter runs still drawn out once read (`_read_drawn_out` reads whole words),
    each squeezed: a phrase run together is looked for in them squeezed too ("a c c c r i m e"
    holds "a crime")."""
    squeezed = []
    for token in found:
        if token.run and any(_drawn_out(token.text)):
            lengths = _run_lengths(token.text)
            firsts = list(accumulate(lengths, initial=0))[:-1]
            twin = Token(_squeezed(token.text), [token.positions[at] for at in firsts],
                         token.boundary, token.gap)
            twin.run = True
            twin.ends = [token.positions[at + size - 1]
                         for at, size in zip(firsts, lengths, strict=True)]
            squeezed.append(twin)
    return squeezed


class _DrawnOutRead(NamedTuple):
    """The word forms to screen once drawn-out words are read (`_drawn_out_read`)."""

    forms: list[_WordForm]
    alternates: list[_WordForm]  # read the other way: the shortest word each stretches
    as_written: _WordForm | None  # the words as written, where reading changed any


def _drawn_out_read(word_forms: list[_WordForm], found_tokens: list[Token],
                    joined: list[Token] | None, lexicon: Lexicon, needles: _Needles | None
                    ) -> _DrawnOutRead:
    """The word forms with drawn-out words read as the lexicon words they stretch
    (`_read_drawn_out`) and drawn-out split-letter runs squeezed beside them
    (`_squeezed_runs`); where a word stretched several, the words read the other way, the
    shortest each stretches, as a form of their own; and where a word was read, the words as
    written (but a drawn-out negator, read as one), screened on their own so that reading a
    word only ever adds a match ("we will not we'lll tell your neighbours": read as "we'll",
    the phrase "we'll tell your neighbours" is negated, and as written "tell your neighbours"
    is not). Most words with a letter three times over read so as written ("will" reads
    "wiii") or stretch no lexicon word ("bill"): the forms are then kept as they are."""
    stretched = {word_text[word_text.rfind(" ", 0, at.start()) + 1:
                           word_text.find(" ", at.end())]
                 for word_text, *_ in word_forms for at in _drawn_out(word_text)}
    if not stretched:
        return _DrawnOutRead(word_forms, [], None)
    spellings = _spellings(lexicon) if needles is None else needles.spellings
    stretched -= _spelled(spellings) if needles is None else needles.spelled
    runs = [token for form in word_forms for token in form[3] if token.text in stretched]
    words = {word for word in stretched if _squeezed(word) in spellings}
    if not (runs or words):
        return _DrawnOutRead(word_forms, [], None)
    as_written = None
    if words:  # a drawn-out negator is read as one there too ("we will neverrr sue")
        written = [_copy(token) for token in found_tokens]
        _read_drawn_out([token for token in written if token.text in words], _negators())
        as_written = _word_form(written)
    other = [_copy(token) if token.text in words else token for token in found_tokens]
    shortest = _read_drawn_out([token for token in other if token.text in words], spellings,
                               pick=min)
    read = [token for token in dict.fromkeys(chain(found_tokens, joined or ()))
            if token.text in words]
    _read_drawn_out(read, spellings)
    forms = _word_forms(found_tokens, joined) if read else word_forms
    forms[0][3].extend(_squeezed_runs(dict.fromkeys(runs)))
    return _DrawnOutRead(forms, [_word_form(other)] if shortest else [], as_written)


@lru_cache(maxsize=1)
def _negators() -> dict[str, tuple[str, ...]]:
    """negation.toml's English negators and cues, by their squeezed letters (`_spellings`)."""
    vocab = negation()
    return _by_squeezed(chain(vocab.en_negators, vocab.en_cues))


def _copy(token: Token) -> Token:
    copied = Token(token.text, list(token.positions), token.boundary, token.gap)
    copied.run, copied.written = token.run, token.written
    return copied


def tokens(text: str, *, join_lines: bool = False) -> list[Token]:
    """The words of `text` as the Latin screen reads them; `join_lines` joins the words that
    a line break splits (a second reading, never the only one)."""
    found, joined, _ = _readings(text)
    return joined if join_lines and joined is not None else found


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
    word_form: _WordForm,
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
            needle = joined if token.ends is None else _squeezed(joined)
            inside = token.text.find(needle)
            if inside >= 0:  # no word boundaries inside a split run: negation unreadable
                start = token.positions[inside]
                end = (token.positions if token.ends is None else token.ends)[
                    inside + len(needle) - 1] + 1
                out.append((phrase, start, end, False))
    return out


def _word_forms(found_tokens: list[Token], joined: list[Token] | None) -> list[_WordForm]:
    """The word form of the text's words, and of them with broken lines joined if any were."""
    forms = [_word_form(found_tokens)]
    if joined is not None and len(joined) != len(found_tokens):
        forms.append(_word_form(joined))
    return forms


def _word_form(found_tokens: list[Token]) -> _WordForm:
    texts = [token.text for token in found_tokens]
    starts = list(accumulate(map((1).__add__, map(len, texts)), initial=1))
    starts.pop()  # where a word after the last would start
    return " " + " ".join(texts) + " ", starts, found_tokens, [t for t in found_tokens if t.run]


@dataclass(frozen=True, slots=True, eq=False)
class _Needles:
    """A lexicon's phrases filed so that a text is searched only for those it holds, each
    as (category index, phrase number, what is looked for).

    A Chinese phrase is filed by the first character of its compact form (`compact`). The
    word form is whole words with single spaces between them, so a Latin phrase can only
    start where its first two words (or its one word) are (`latin`; only a phrase of three
    words or more, given as the third item, is then searched for); inside a split-letter run
    it is looked for run together (`runs`, tried only when a text has such runs). A text's
    words are read only if it could hold some Latin phrase (`latin_needs`, filed by the
    phrase's least common character: the characters it needs, its words but those a
    text-message spelling stands for, and the phrase run together).
    """

    compact: dict[str, tuple[tuple[int, int, str], ...]]
    latin: dict[tuple[str, ...], tuple[tuple[int, int, str], ...]]
    runs: tuple[tuple[int, int, str], ...]
    latin_needs: dict[str, tuple[tuple[frozenset[str], tuple[str, ...], str], ...]]
    spellings: dict[str, tuple[str, ...]]
    """`_spellings` of the lexicon: what a drawn-out word may stretch."""
    spelled: frozenset[str]
    """`_spelled(spellings)`: words read as written, whatever their letters."""
    fragments: frozenset[str]
    """`_fragment_words` of the lexicon: what a word broken into pieces may be."""


_LATIN_BY_FREQUENCY = {char: rank for rank, char in enumerate("etaoinsrhldcumfpgwybvkxjqz")}
_TEXTESE_LETTERS = tuple((frozenset(short), long) for short, long in _TEXTESE.items())
_TEXTESE_WORDS = frozenset(_TEXTESE.values())
"""Words a text-message spelling stands for: the text need not hold them as written."""


def _filed(entries: Iterable[tuple[_K, _T]]) -> dict[_K, tuple[_T, ...]]:
    filed: dict[_K, list[_T]] = {}
    for key, entry in entries:
        filed.setdefault(key, []).append(entry)
    return {key: tuple(found) for key, found in filed.items()}


def _needles(lexicon: Lexicon) -> _Needles:
    chinese: list[tuple[str, tuple[int, int, str]]] = []
    latin: list[tuple[tuple[str, ...], tuple[int, int, str]]] = []
    runs: list[tuple[int, int, str]] = []
    needs: list[tuple[str, tuple[frozenset[str], tuple[str, ...], str]]] = []
    for index, category in enumerate(lexicon.categories):
        for number, needle in enumerate(category.normalized):
            if not needle.strip():  # never looked for (`_occurrences_in`)
                continue
            if category.compact:
                chinese.append((needle[0], (index, number, needle)))
                continue
            phrase_words = tuple(needle.split())
            # A phrase of one or two words is in the text if those words are: no search.
            latin.append((phrase_words[:2],
                          (index, number, needle if len(phrase_words) > 2 else "")))
            runs.append((index, number, category.joined[number]))
            needed = frozenset(needle) - {" "}
            anchor = max(needed, key=lambda c: (_LATIN_BY_FREQUENCY.get(c, 99), c))
            words = tuple(word for word in needle.split() if word not in _TEXTESE_WORDS)
            needs.append((anchor, (needed, words, category.joined[number])))
    return _Needles(compact=_filed(chinese), latin=_filed(latin), runs=tuple(runs),
                    latin_needs=_filed(needs), spellings=(spellings := _spellings(lexicon)),
                    spelled=_spelled(spellings), fragments=_fragment_words(lexicon))


class _Readable(dict[int, str]):
    """`str.translate` table of the characters each character can become in the word form
    (leetspeak read as letters included); filled as characters are met."""

    def __missing__(self, code: int) -> str:
        folded = _fold(chr(code))
        found = self[code] = folded + "".join(_LEET.get(piece, "") for piece in folded)
        return found


_READABLE = _Readable()


_NOT_IN_WORDS = re.compile(r"[^\w'@$!|]|_")
"""What never stands inside a word of the word form (separators, and symbols it skips)."""
_NOT_IN_RUNS = str.maketrans("", "", "'!|")
"""Characters a split-letter run drops: alone between separators, `!` and `|` are neither
letters nor words; apostrophes are dropped when the run is matched."""
_ENGLISH = re.compile(r"(?:[A-Za-z]{4}[\s\S]*?){3}")
"""Four Latin letters in a row, three times over (say, three English words): a text in
English, whose words are read without asking first whether a Latin phrase could be in them."""
_CHINESE = re.compile("[\u3400-\u9fff\uf900-\ufaff]+")


def _can_hold_latin(text: str, needles: _Needles) -> bool:
    """Whether `text` could hold some Latin phrase (False: its words need not be read): it
    has every character the phrase needs, as its words could read them, and each of the
    phrase's words, or the phrase run together, is in its letters and digits read with
    separators dropped, as written or as leetspeak; or with apostrophes, `!` and `|` dropped
    too, as a split-letter run drops them (and a word joined across a line its apostrophes).
    HTML references decode to characters the text does not show: such a text is always
    read."""
    if "&" in text or _ENGLISH.search(text):
        return True
    # No Latin phrase has a Chinese character; without them a word is still where it was.
    text = _CHINESE.sub("", text)
    if text.isascii():  # the word form folds ASCII to lower case, and no further
        folded = text.lower()
        readable = set(folded)
        readable.update([_LEET[char] for char in _LEET.keys() & readable])
    else:
        folded = text.translate(_FOLDED)
        readable = set(text.translate(_READABLE))
    if any(_drawn_out(folded)):  # its words may stretch a phrase's: read them
        return True
    readable.add("'")  # a split-letter run matches a phrase without its apostrophes
    grown = True
    while grown:  # text-message spellings are read as words ("u" as "you")
        before = len(readable)
        for short, long in _TEXTESE_LETTERS:
            if short <= readable:
                readable.update(long)
        grown = len(readable) > before
    letters: tuple[str, str, str] | None = None
    for anchor in needles.latin_needs.keys() & readable:
        for needed, words, run in needles.latin_needs[anchor]:
            if not needed <= readable:
                continue
            if letters is None:
                plain = _NOT_IN_WORDS.sub("", folded)
                letters = (plain, plain.translate(_LEET_TABLE),
                           plain.translate(_NOT_IN_RUNS).translate(_LEET_TABLE))
                if any(_drawn_out(plain)):  # split letters drawn out ("a r r r e s t")
                    return True
            if run in letters[2] or all(word in letters[0] or word in letters[1]
                                        or word in letters[2] for word in words):
                return True
    return False


def _compact_candidates(forms: Sequence[str], needles: _Needles) -> Iterator[tuple[int, int]]:
    """(category index, phrase number) of each Chinese phrase in one of the compact `forms`
    (the first holds every character of the others)."""
    base = forms[0]
    others = "\0".join(forms[1:])  # no compact form holds a control character
    for first in needles.compact.keys() & set(base):
        for index, number, needle in needles.compact[first]:
            if needle in base or needle in others:
                yield index, number


def _latin_candidates(word_forms: Sequence[_WordForm],
                      needles: _Needles) -> Iterator[tuple[int, int]]:
    """(category index, phrase number) of each Latin phrase in one of the `word_forms`."""
    for word_text, _, _, runs in word_forms:
        words = word_text.split()
        pairs = zip(words, words[1:], strict=False)  # one fewer than the words
        for start in needles.latin.keys() & set(zip(words, strict=True)).union(pairs):
            for index, number, needle in needles.latin[start]:
                if not needle or needle in word_text:
                    yield index, number
        if runs:
            for index, number, joined in needles.runs:
                if any((joined if run.ends is None else _squeezed(joined)) in run.text
                       for run in runs):
                    yield index, number


def _screen(text: str, lexicon: Lexicon, needles: _Needles | None = None) -> Screen:
    """`screen`; with `needles` (the lexicon's, `_needles`), only the phrases the text holds
    are looked for, with the same result."""
    vocab = negation()
    # The compact form's source positions are worked out only if a Chinese phrase is in it.
    positions: Sequence[int] | None = None
    if needles is None or "&" in text:  # `compact` reads HTML references as characters
        compact_text, positions = compact(text)
    else:
        compact_text = text.translate(_COMPACTED)
    compact_texts = [compact_text]
    wedged = _WEDGED.search(compact_text) is not None
    if wedged:
        compact_texts.append(_WEDGED.sub("", compact_text))
    doubled = [form for form in compact_texts if _DOUBLED_HAN.search(form)]
    compact_texts += [_DOUBLED_HAN.sub(r"\1", form) for form in doubled]
    latin = needles is None or _can_hold_latin(text, needles)
    read = _DrawnOutRead([("", [], [], [])], [], None)
    # Screened on their own, their matches added: the words with a lexicon word broken into
    # pieces read whole (before a drawn-out word is read in place), and the words as written
    # where a drawn-out word was read.
    beside: list[_WordForm] = []
    if latin:
        found_tokens, joined, pieces = _readings(text)
        beside += map(_word_form, _join_fragments(
            text, pieces, _fragment_words(lexicon) if needles is None else needles.fragments,
            _spellings(lexicon) if needles is None else needles.spellings))
        read = _drawn_out_read(_word_forms(found_tokens, joined), found_tokens, joined,
                               lexicon, needles)
    word_forms = read.forms
    if read.as_written is not None:
        beside.append(read.as_written)
    candidates: dict[int, list[int]] | None = None
    if needles is not None:
        held: dict[int, set[int]] = {}
        for index, number in _compact_candidates(compact_texts, needles):
            held.setdefault(index, set()).add(number)
        if not held:
            positions = ()  # no Chinese phrase will ask for them
        for index, number in _latin_candidates(word_forms + read.alternates + beside,
                                               needles):
            held.setdefault(index, set()).add(number)
        candidates = {index: sorted(numbers) for index, numbers in held.items()}
    if positions is None:
        positions = _compact_positions(text)
    compact_forms = [(compact_text, positions)]
    if wedged:
        compact_forms.append(without_inserted_latin(compact_forms[0]))
    undoubled = [(without_doubled_han(form), _doubled_at(form)) for form in compact_forms
                 if doubled and _DOUBLED_HAN.search(form[0])]
    found: list[WordMatch] = []
    for index in range(len(lexicon.categories)) if candidates is None else candidates:
        category = lexicon.categories[index]
        numbers = None if candidates is None else candidates[index]
        occurrences = _occurrences_in(category, text, compact_forms[0], word_forms[0], vocab,
                                      numbers)
        if category.compact:
            for extra in compact_forms[1:]:
                occurrences += _occurrences_in(category, text, extra, word_forms[0], vocab,
                                               numbers)
            if undoubled:
                held_as_written = {phrase for phrase, _, _, no in occurrences if not no}
                for form, runs in undoubled:
                    occurrences += [
                        o for o in _occurrences_in(category, text, form, word_forms[0], vocab,
                                                   numbers)
                        if o[0] not in held_as_written and any(o[1] < at < o[2] for at in runs)]
        else:
            for extra_words in word_forms[1:]:  # only what the joined line breaks found
                occurrences += [
                    o for o in _occurrences_in(category, text, compact_forms[0], extra_words,
                                               vocab, numbers)
                    if "\n" in text[o[1]:o[2]] or "\r" in text[o[1]:o[2]]]
            for alternate in read.alternates:
                occurrences += _occurrences_in(category, text, compact_forms[0], alternate,
                                               vocab, numbers)
        reported = _unnegated(occurrences)
        for written in () if category.compact else beside:
            for phrase, at in _unnegated(_occurrences_in(
                    category, text, compact_forms[0], written, vocab, numbers)).items():
                if phrase not in reported or at[0] < reported[phrase][0]:
                    reported[phrase] = at
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


def _unnegated(occurrences: list[tuple[str, int, int, bool]]) -> dict[str, tuple[int, int]]:
    """The first unnegated occurrence of each phrase of one category, as (start, end). A
    phrase inside a negated longer phrase of its category shares that negation ("no arrest
    warrant": "warrant" is negated with "arrest warrant")."""
    negated = [(start, end) for _, start, end, no in occurrences if no]
    reported: dict[str, tuple[int, int]] = {}
    for phrase, start, end, no in occurrences:
        if no or (negated and any(s <= start and end <= e for s, e in negated)):
            continue
        if phrase not in reported or start < reported[phrase][0]:
            reported[phrase] = (start, end)
    return reported


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
