"""The wording screen is fast without deciding anything differently.

Two shortcuts are held to the full search: looking only for the phrases a text can hold
(`wording._needles`), and every later optimisation of `wording.py`, which is held to the frozen
copy in `wording_reference.py` on texts made to come close to many phrases by the evasions the
screen exists to see through: letters split apart ("k i l l"), symbols and dots inserted,
leetspeak, full-width and zero-width characters, look-alike scripts, traditional Chinese, line
breaks, HTML references, and negations ("we will not sue you", "不会起诉"). The shipped lexicons,
message templates and strategies are screened by both as well. The reference is held to as it
looks for every phrase: its prefilter could drop a match in a split-letter run (see the two
`test_a_split_letter_run_…` tests), which the new one does not.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from arrears.compliance import wording

import wording_reference as reference

LEXICON = wording.default_lexicon()
REFERENCE_LEXICON = reference.default_lexicon()
PHRASES = sorted({phrase for category in LEXICON.categories for phrase in category.phrases})
SEPARATORS = (" ", ".", "-", "_", "\n", "  ", "…", "😀", "\u200b", "，", "!", "|", "'", " . ",
              "\r\n", "*", "\u00ad", "\u3000")
LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7", "l": "1"})
SIMPLIFIED_TO_TRADITIONAL = str.maketrans(
    {simplified: chr(traditional)
     for traditional, simplified in wording.traditional_to_simplified().items()})
LOOKALIKE = str.maketrans("aeopcyx", "аеорсух")  # Latin → Cyrillic that renders alike
NEGATIONS = ("we will not ", "we won't ", "we never ", "no ", "we cannot and will not ",
             "don't think we won't ", "we will not hesitate to ", "不会", "我们不会", "绝不",
             "不还钱就", "暂时不会", "只要你还款就不会", "even if you do not pay, we will not ",
             "debt collectors may not threaten ", "威胁")
CONTEXT = ("", " if you pay today", " yet", " now.", "。", "，否则", " or jailed", "了")


def _disguise(draw: st.DrawFn, phrase: str) -> str:
    way = draw(st.sampled_from(("plain", "split", "leet", "upper", "wide", "zero-width",
                                "traditional", "lookalike", "entity", "inserted")))
    if way == "split":
        return draw(st.sampled_from(SEPARATORS)).join(phrase)
    if way == "leet":
        return phrase.translate(LEET)
    if way == "upper":
        return phrase.upper()
    if way == "wide":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in phrase)
    if way == "zero-width":
        return "\u200b".join(phrase)
    if way == "traditional":
        return phrase.translate(SIMPLIFIED_TO_TRADITIONAL)
    if way == "lookalike":
        return phrase.translate(LOOKALIKE)
    if way == "entity":
        return "".join(f"&#{ord(c)};" if c.isalpha() and draw(st.booleans()) else c
                       for c in phrase)
    if way == "inserted":  # one symbol, letter or digit at one place inside the phrase
        at = draw(st.integers(0, len(phrase)))
        return phrase[:at] + draw(st.sampled_from("*.l1😀-_ \n")) + phrase[at:]
    return phrase


@st.composite
def disguised(draw: st.DrawFn) -> str:
    """A lexicon phrase as a text might carry it, evasions layered, perhaps negated."""
    phrase = draw(st.sampled_from(PHRASES))
    for _ in range(draw(st.integers(1, 2))):
        phrase = _disguise(draw, phrase)
    if draw(st.booleans()):
        phrase = draw(st.sampled_from(NEGATIONS)) + phrase + draw(st.sampled_from(CONTEXT))
    return phrase


FILLER = st.text(alphabet=st.sampled_from(
    "您的借款尾号第期应还元到期请通过官方还款账户客服电话回复退订不会起诉坐牢法院們會債"
    "abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789 .,!?;:'\"-_()【】，。！？…😀\n\r&#;@$|"
    "\u200b\uff21\uff41аеορ\u00e9"), max_size=12)
WORDS = st.sampled_from(("you", "u", "will", "be", "not", "we", "sue", "to", "jail", "and",
                         "or", "no", "pay", "today", "if", "your", "ur", "employer", "a r r e s t",
                         "k i l l", "A.R.R.E.S.T.", "n o t", "不", "会", "就", "。", ". ", ", ",
                         "\n\n", " ", "d o n ' t", "won't"))
TEXTS = st.lists(st.one_of(disguised(), FILLER, WORDS), min_size=1, max_size=8).map("".join)


def _same_screen(text: str) -> None:
    """The default screen finds what the reference finds looking for every phrase. (The
    reference's own prefilter, `_candidates`, could drop a phrase a split-letter run holds
    across an apostrophe: see the test below.)"""
    _same_matches(text, wording.screen(text).matches,
                  reference._screen(text, REFERENCE_LEXICON).matches)


def _reads_more(text: str) -> bool:
    """Whether the screen reads `text` in a way the reference does not: a drawn-out word
    ("smalll") as the lexicon word it stretches, or a lexicon word broken into pieces ("ja
    il") whole."""
    return any(any(wording._drawn_out(token.text))
               for join_lines in (False, True)
               for token in wording.tokens(text, join_lines=join_lines)) or \
        bool(wording._join_fragments(text, wording._readings(text)[2],
                                     wording._default_needles().fragments,
                                     wording._default_needles().spellings))


def _same_matches(text: str, mine: tuple[wording.WordMatch, ...],
                  theirs: tuple[wording.WordMatch, ...]) -> None:
    if _reads_more(text):
        # Each phrase the reference finds is found still (first where the word read
        # otherwise stands, if that is earlier).
        assert {(m.category, m.phrase) for m in theirs} <= \
            {(m.category, m.phrase) for m in mine}, text
    else:
        assert mine == theirs, text


CHINESE = re.compile("[\u3400-\u9fff]")
LATIN_PHRASES = sorted({phrase for category in LEXICON.categories if not category.compact
                        for phrase in category.phrases})


def test_a_lexicon_word_reads_as_itself() -> None:
    """Reading drawn-out words changes no lexicon word as written, though some read with a
    letter three times over ("will" reads "wiii": l and i are one letter)."""
    spellings = wording._default_needles().spellings
    for phrase in LATIN_PHRASES:
        found = wording.tokens(phrase)
        before = [(token.text, token.positions) for token in found]
        wording._read_drawn_out(found, spellings)
        assert [(token.text, token.positions) for token in found] == before, phrase


@settings(max_examples=400, deadline=None)
@given(phrase=st.sampled_from(LATIN_PHRASES), data=st.data())
def test_a_letter_drawn_out_hides_no_phrase(phrase: str, data: st.DataObject) -> None:
    """A letter of a phrase written three to six times ("arrrrested", "jaaail", "suuue"),
    as it stands or split into single letters, is found as the phrase is."""
    at = data.draw(st.sampled_from([k for k, char in enumerate(phrase) if char.isalpha()]))
    drawn = phrase[:at] + phrase[at] * data.draw(st.integers(3, 6)) + phrase[at + 1:]
    if data.draw(st.booleans()):
        phrase, drawn = " ".join(phrase), " ".join(drawn)
    plain = {(m.category, m.phrase) for m in wording.screen(phrase).matches}
    assert plain <= {(m.category, m.phrase) for m in wording.screen(drawn).matches}, drawn


def _same_tokens(text: str) -> None:
    for join_lines in (False, True):
        mine = wording.tokens(text, join_lines=join_lines)
        theirs = reference.tokens(text, join_lines=join_lines)
        assert [(t.text, list(t.positions), t.boundary, t.gap, t.run) for t in mine] == \
            [(t.text, list(t.positions), t.boundary, t.gap, t.run) for t in theirs], text


def test_a_split_letter_run_across_an_apostrophe_is_read_whole() -> None:
    """The reference's prefilter looked for "sheriffs" in the text's letters with the
    apostrophe kept ("sheriff'soffice") and dropped it; the run reads "sheriffsoffice"."""
    text = "s h e r i f f ' s   o f f i c e"
    assert [m.phrase for m in reference.screen(text).matches] == ["sheriff's office"]
    assert [m.phrase for m in wording.screen(text).matches] == ["sheriff's office", "sheriffs"]


def test_a_split_letter_run_with_exclamation_marks_between_is_read_whole() -> None:
    """Alone between spaces, "!" is no letter: the reference's prefilter read it as an "i"
    ("aiiiicii…") and dropped the phrase the run holds ("acrime")."""
    text = "a! ! ! !c! !r! !i! !m! !e"
    assert reference.screen(text).matches == ()
    assert [m.phrase for m in wording.screen(text).matches] == ["a crime"]


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_the_prefiltered_screen_finds_what_the_full_screen_finds(text: str) -> None:
    assert wording._screen(text, LEXICON, wording._default_needles()) == \
        wording._screen(text, LEXICON)


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_the_screen_decides_as_the_frozen_reference(text: str) -> None:
    _same_screen(text)


@settings(max_examples=400, deadline=None)
@given(phrase=st.sampled_from(LATIN_PHRASES), data=st.data())
def test_a_word_broken_into_pieces_hides_no_phrase(phrase: str, data: st.DataObject) -> None:
    """A word of a phrase broken into two to `_MAX_FRAGMENTS` pieces by punctuation with no
    space ("ja.il", "ja...il"), or by separators or punctuation between spaces where a piece is
    no word of its own ("ja il", "ja , il", "a r r e st ed"; "worth less" is two words),
    perhaps negated, is found as the phrase is."""
    words = phrase.split(" ")
    at = data.draw(st.sampled_from([k for k, word in enumerate(words)
                                    if len(word) >= wording._MIN_JOINED and word.isalpha()]
                                   or [None]))
    if at is None:
        return
    word = words[at]
    cuts = sorted(data.draw(st.sets(st.integers(1, len(word) - 1), min_size=1,
                                    max_size=wording._MAX_FRAGMENTS - 1)))
    separator = data.draw(st.sampled_from((" ", "  ", "-", " - ", "\u00a0", "_", ".", "...",
                                           ",", "'", "\u2014", "(", ":", "*", " , ", " . ",
                                           " ; ", " ! ", " ... ")))
    pieces = [word[start:end] for start, end in zip([0, *cuts], [*cuts, len(word)],
                                                     strict=True)]
    if any(map(str.isspace, separator)) and not any(
            len(piece) <= 2 and piece not in wording._SHORT_WORDS for piece in pieces):
        return
    if separator == "'" and pieces[-1] in wording._ENDINGS:  # reads as "wi'll", "it's"
        return
    words[at] = separator.join(pieces)
    prefix = data.draw(st.sampled_from(("", "we will ", "we will not ", "you will ")))
    # By category: a phrase run together ("phonebook") may be found beside the phrase as
    # written ("phone book") only while no piece is a single letter.
    plain = {m.category for m in wording.screen(prefix + phrase).matches}
    broken = prefix + " ".join(words)
    assert plain <= {m.category for m in wording.screen(broken).matches}, broken


@pytest.mark.parametrize("text", [
    "you will go to ja il", "you will go to jai l", "you will go to ja.il",
    "you will go to ja...il", "you will go to ja'il", "we will have you a rr es ted",
    "we will have you arr est ed", "we will s ue you", "we will su e you", "a*mmmount due",
    "we will not have you arrested un less you pay", "we will not have you arrested yyyet",
    "we will not have you arrested unlesss you pay",
    "we will not have you arrested at this tiiime", "you will go to ja , il",
    "you will go to ja . il", "we will have you a r r e st ed", "we will have you ar re st ed",
    "p a y   w w w i t h i n   7   d a y s", "我们会通知你单单位", "我们会通知你你单位"])
def test_words_broken_or_drawn_out_are_read(text: str) -> None:
    """Each is found by no reading the frozen reference has."""
    assert wording.screen(text).matches, text
    assert not reference.screen(text, REFERENCE_LEXICON).matches, text


@pytest.mark.parametrize("text", [
    "We will not contact your employer from day 1 to day 90 of your plan.",
    "We will not sue you up to day 60 of the plan.",
    "Your voucher is worth less after the due date.",
    "Your payment from the U.S hit our account today.", "P.S hit reply to confirm",
    "Your payment\u2018s hit our account.", "Please post it on line 4 of the form.",
    "We locked a way for you to pay.", "Please fill in form your employer gave you",
    "Every one will know the new due date.", "You can take your pay check to any branch.",
    "Take your car to day care.", "Kim Ja Il called about her account.",
    "Hi Ja-il, your payment is overdue.", "Our PR is on hold until Monday; we will call you.",
    "Dear Li Ar, your payment is due.", "Dear C Rook, your balance is due.",
    "Dear Mr. de Port, your balance is due.", "Our AR rep will call. AR rests with our team.",
    "Your reference is JA-1L, please quote it.", "Case ID: CO-PS-2231.",
    "Your reference is AR-REST-01.",
    "You cannot be arrested for this debt, and no W-2 is needed.",
    "We met in Osaka , it was fine.", "Pay by card , or by transfer .",
    "Thanks , Li . Your balance is due ."])
def test_two_ordinary_words_are_not_read_as_one(text: str) -> None:
    """Harmless sentences whose neighbouring words, names or codes run together make a lexicon
    word: the screen finds in them only what the reference finds (found by review)."""
    assert wording.screen(text).matches == reference.screen(text, REFERENCE_LEXICON).matches


ZH_PHRASES = sorted({phrase for category in LEXICON.categories if category.compact
                     for phrase in category.phrases if CHINESE.search(phrase)})


@settings(max_examples=400, deadline=None)
@given(phrase=st.sampled_from(ZH_PHRASES), data=st.data())
def test_a_chinese_character_written_again_hides_no_phrase(phrase: str,
                                                           data: st.DataObject) -> None:
    """A Chinese character of a phrase after its first written two to four times in a row
    ("通知你单单位", "通知你你单位"), perhaps negated or in a sentence, is found as the phrase
    is. (Its first character written twice reads as the end of the word before it as well:
    "绝不不会放过你" is "绝不" and "不会放过你".)"""
    at = data.draw(st.sampled_from([k for k, char in enumerate(phrase)
                                    if k and CHINESE.match(char)] or [None]))
    if at is None:
        return
    times = data.draw(st.integers(2, 4))
    before = data.draw(st.sampled_from(("", "再不还钱就", "我们不会", "您好，")))
    after = data.draw(st.sampled_from(("", "。", "，请尽快还款。")))
    drawn = before + phrase[:at] + phrase[at] * times + phrase[at + 1:] + after
    plain = {m.category for m in wording.screen(before + phrase + after).matches}
    assert plain <= {m.category for m in wording.screen(drawn).matches}, drawn


@pytest.mark.parametrize("text", [
    "天天开心，谢谢您按时还款。", "您好，请您看看本期账单，常常关注还款日。",
    "妈妈说她会按时还款。", "请于本月15日前还款，谢谢谢谢！"])
def test_chinese_written_twice_in_earnest_reads_as_the_reference_reads_it(text: str) -> None:
    """Words doubled in earnest (天天, 看看, 谢谢) make no phrase of their own."""
    assert wording.screen(text).matches == reference.screen(text, REFERENCE_LEXICON).matches


@pytest.mark.parametrize("text", ["You will neverrr be arrested for a debt.",
                                  "We will nevvver contact your employer.",
                                  "We would nevvver hurt you."])
def test_a_drawn_out_negator_still_negates(text: str) -> None:
    """Read as written beside the reading of its drawn-out words, a text keeps a drawn-out
    negator read as one (found by review: "neverrr" had lost its negation)."""
    assert {m.category for m in wording.screen(text).matches} <= {"debt_reference"}


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.data())
@example("we will not we'll tell your neighbours", None)
def test_a_letter_drawn_out_anywhere_hides_no_match(text: str, data: st.DataObject | None
                                                    ) -> None:
    """Reading a drawn-out word only ever adds a match: "we will not we'lll tell your
    neighbours" reads "we'lll" as "we'll", and the phrase "we'll tell your neighbours" is then
    negated, but "tell your neighbours" as written is not."""
    # A letter of a Latin word (not of letters inside a Chinese phrase, "回TD退订"); a
    # split-letter run drawn out is the test above's.
    letters = [word.start() + k for word in re.finditer("[A-Za-z]{2,}", text)
               if not CHINESE.match(text[word.end():word.end() + 1])
               and not CHINESE.match(text[word.start() - 1:word.start()])
               for k in range(word.end() - word.start())]
    if not letters:
        return
    at = text.index("we'll") + 4 if data is None else data.draw(st.sampled_from(letters))
    drawn = text[:at] + text[at] * 3 + text[at + 1:]
    before = {(m.category, m.phrase) for m in wording.screen(text).matches}
    assert before <= {(m.category, m.phrase) for m in wording.screen(drawn).matches}, drawn


@settings(max_examples=300, deadline=None)
@given(TEXTS)
@example("we will not we'lll tell your neighbours")  # see the test above
def test_a_lexicon_passed_in_is_screened_as_the_reference_screens_it(text: str) -> None:
    _same_matches(text, wording.screen(text, LEXICON).matches,
                  reference.screen(text, REFERENCE_LEXICON).matches)


@settings(max_examples=500, deadline=None)
@given(TEXTS)
@example("a crime泼 油 漆4 cr1m3")  # 漆 is a letter and a numeral: the word is read as leet
def test_words_and_the_compact_form_read_as_the_reference_reads_them(text: str) -> None:
    _same_tokens(text)
    assert wording.compact(text) == reference.compact(text)
    assert wording.words(text) == reference.words(text)


@pytest.mark.parametrize("phrase", PHRASES)
def test_every_lexicon_phrase_mutated_is_screened_as_the_reference_screens_it(
        phrase: str) -> None:
    for separator in SEPARATORS:
        _same_screen(separator.join(phrase))
    for text in (phrase, phrase.upper(), phrase.translate(LEET), "\u200b".join(phrase),
                 phrase.translate(SIMPLIFIED_TO_TRADITIONAL), phrase.translate(LOOKALIKE),
                 f"Dear customer, {phrase}.\n{phrase.replace(' ', chr(10))}!"):
        _same_screen(text)
        for negation in NEGATIONS:
            _same_screen(negation + text)
            _same_screen(negation + text + " if you pay today.")


def _shipped_texts() -> list[str]:
    """Every template, strategy and lexicon file Arrears ships: whole, and line by line."""
    roots = (resources.files("arrears.adapters.channels") / "templates",
             resources.files("arrears.application"),
             resources.files("arrears.compliance.packs") / "lexicons")
    texts: list[str] = []
    for root in roots:
        pending = [root]
        while pending:
            for entry in pending.pop().iterdir():
                if entry.is_dir():
                    pending.append(entry)
                elif entry.name.endswith((".j2", ".toml", ".txt")):
                    whole = entry.read_text(encoding="utf-8")
                    texts.extend([whole, *whole.splitlines()])
    return texts


def test_the_shipped_templates_strategies_and_lexicons_are_screened_as_the_reference_does(
) -> None:
    shipped = _shipped_texts()
    assert len(shipped) > 100
    for text in shipped:
        _same_screen(text)
