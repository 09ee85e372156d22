"""The wording screen looks only for the phrases a text can hold (`wording._needles`): the
same matches as looking for every phrase, on texts made to come close to many of them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.compliance import wording

LEXICON = wording.default_lexicon()
PHRASES = sorted({phrase for category in LEXICON.categories for phrase in category.phrases})
SEPARATORS = (" ", ".", "-", "_", "\n", "  ", "…", "😀", "\u200b", "，", "!", "|", "'")
LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7", "l": "1"})


@st.composite
def disguised(draw: st.DrawFn) -> str:
    """A lexicon phrase as a text might carry it: plain, split letter by letter, in
    leetspeak, upper case or full width."""
    phrase = draw(st.sampled_from(PHRASES))
    way = draw(st.sampled_from(("plain", "split", "leet", "upper", "wide")))
    if way == "split":
        return draw(st.sampled_from(SEPARATORS)).join(phrase)
    if way == "leet":
        return phrase.translate(LEET)
    if way == "upper":
        return phrase.upper()
    if way == "wide":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in phrase)
    return phrase


FILLER = st.text(alphabet=st.sampled_from(
    "您的借款尾号第期应还元到期请通过官方还款账户客服电话回复退订不会起诉坐牢法院"
    "abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789 .,!?;:'\"-_()【】，。！？…😀\n&#;"),
    max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(disguised(), FILLER), min_size=1, max_size=6))
def test_the_prefiltered_screen_finds_what_the_full_screen_finds(parts):
    text = "".join(parts)
    assert wording._screen(text, LEXICON, wording._default_needles()) == \
        wording._screen(text, LEXICON)
