"""Wording screen: Chinese robust to width, script and inserted spaces; English by words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.compliance.wording import compact, default_lexicon, negation, screen, words


@pytest.mark.parametrize(
    "text",
    [
        "再不还就让你坐牢",
        "再不还就让你坐 牢",
        "再不还就让你坐-牢！",
        "再不還就讓你坐　牢",  # traditional + full-width space
        "坐*牢",
    ],
)
def test_chinese_threats_match_through_evasions(text: str) -> None:
    assert screen(text).has("threat_arrest")


def test_full_width_latin_and_traditional_characters() -> None:
    assert screen("回复ＴＤ退订").has("opt_out_method")
    result = screen("我們是法院執行局")
    assert result.has("impersonation")
    match = next(m for m in result.matches if m.phrase == "法院执行局")
    assert match.matched == "法院執行局"


def test_matched_text_keeps_the_original_spacing() -> None:
    result = screen("你 会 上 全 国 黑 名 单")
    match = next(m for m in result.matches if m.phrase == "全国黑名单")
    assert match.matched == "全 国 黑 名 单"


def test_english_matches_whole_words_only() -> None:
    assert screen("We'll tell your neighbours.").has("third_party_disclosure")
    assert not screen("The restaurant was great").has("threat_arrest")
    assert not screen("Pursue the plan").has("legal_threat")  # 'sue' inside a word


def test_clean_text_has_no_forbidden_matches() -> None:
    forbidden = default_lexicon().forbidden
    result = screen("您好，这里是某消费金融公司，您的账单已出，请按时还款。")
    assert not [m for m in result.matches if m.category in forbidden]


def test_every_forbidden_category_has_both_languages() -> None:
    lexicon = default_lexicon()
    names = {(c.name, c.compact) for c in lexicon.categories if c.forbidden}
    for name, _ in names:
        assert (name, True) in names and (name, False) in names


def test_compact_positions_point_into_the_original() -> None:
    text, positions = compact("坐 牢")
    assert text == "坐牢" and positions == (0, 2)


# --- issue 16 item 5: Latin-script evasions (US-30, CN-7) ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a r r e s t",
        "A.R.R.E.S.T.",
        "a-r-r-e-s-t",
        "a_r_r_e_s_t",
        "a . r . r . e . s . t",
        "Ａｒｒｅｓｔ",  # full width
        "ARRÉST",  # accent
        "аrrеst",  # Cyrillic а and е
        "ar\u200brest",  # zero-width space
        "arr3st",
        "@rrest",
        "y o u  w i l l  b e  a r r e s t e d",
        "go to j41l",
        "go to j a i l",
        "the p o l i c e will come",
        "A warrant has been issued in your name.",
        "We will press charges.",
    ],
)
def test_latin_threats_match_through_evasions(text: str) -> None:
    assert screen(text).has("threat_arrest"), text


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("we'll k1ll you", "threat_violence"),
        ("you are a t h i e f", "insult"),
        ("We will garnish your wages without a court order.", "unlawful_seizure"),
        ("We can seize your bank account today.", "unlawful_seizure"),
        ("we will $ue", "legal_threat"),
    ],
)
def test_other_categories_match_through_evasions(text: str, category: str) -> None:
    assert screen(text).has(category), text


@pytest.mark.parametrize(
    "text",
    [
        "Please pay 500.00 within 10 days of 2025-06-02; call 555 123 4567.",
        "Your account ending 4417 has a balance of $120.50.",
        "We are still willing to help: call us between 9am and 5pm.",
        "Pursue the plan; the sequel was legal and the lawn is still green.",
    ],
)
def test_numbers_and_ordinary_words_are_not_read_as_threats(text: str) -> None:
    forbidden = default_lexicon().forbidden
    assert not [m for m in screen(text).matches if m.category in forbidden], text


_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def _en_phrases(*categories: str) -> list[tuple[str, str]]:
    return [
        (c.name, p)
        for c in default_lexicon().categories
        if not c.compact and c.name in categories
        for p in c.phrases
    ]


FORBIDDEN_EN = _en_phrases(*sorted(default_lexicon().forbidden))


@settings(max_examples=300, deadline=None)
@given(
    entry=st.sampled_from(FORBIDDEN_EN),
    separator=st.sampled_from([" ", ".", "-", "_", " . ", "*"]),
    upper=st.booleans(),
)
def test_every_forbidden_phrase_survives_letter_splitting(
    entry: tuple[str, str], separator: str, upper: bool
) -> None:
    category, phrase = entry
    split = "  ".join(separator.join(word) for word in phrase.split())
    text = f"Notice: {split.upper() if upper else split}"
    assert screen(text).has(category), text


@settings(max_examples=300, deadline=None)
@given(entry=st.sampled_from(FORBIDDEN_EN), data=st.data())
def test_every_forbidden_phrase_survives_leetspeak(
    entry: tuple[str, str], data: st.DataObject
) -> None:
    category, phrase = entry
    written = []
    for word in phrase.split():
        letters = [i for i, ch in enumerate(word) if ch in _LEET]
        chosen: set[int] = set()
        if len(word) > 1 and letters:
            chosen = data.draw(st.sets(st.sampled_from(letters)))
        if len(chosen) == sum(ch.isalpha() for ch in word):
            chosen = set(sorted(chosen)[1:])  # keep a letter: a pure number is never a word
        written.append("".join(_LEET[ch] if i in chosen else ch for i, ch in enumerate(word)))
    text = " ".join(written)
    assert screen(text).has(category), text


# --- issue 16 item 6: negation scope (US-25, US-30, CN-7) -------------------------------------

REQUIRED_DISCLOSURES = [
    # California / CFPB-style time-barred disclosure (US-25).
    "The law limits how long you can be sued on a debt. Because of the age of your debt, we "
    "will not sue you for it.",
    "Because of the age of your debt, we cannot sue you for it and we cannot report it to any "
    "credit reporting agency.",
    "We will not take legal action against you.",
    "No lawsuit will be filed.",
    "We do not intend to file a lawsuit against you.",
    "Even if you do not pay, we will not sue you.",
    "You cannot be arrested for not paying a debt, and you will not go to jail.",
    "There is no arrest warrant.",
    "We won't tell your employer.",
    "You do not have to pay immediately.",
    "该笔欠款已超过诉讼时效，我们不会起诉您。",
    "您不会因此坐牢，也不会被逮捕。",
    "我们不会对您提起诉讼。",
    "如果你不还款，我们也不会起诉你。",
]

ORDINARY_ZH = [  # lexicon phrases met inside ordinary service messages: no threat
    "请勿将本号码拉黑，以免错过重要通知。",
    "您的工资代扣需通知单位人事部门办理。",
    "如您已还款，可告诉家人无需担心。",
    "您可以联系您的家人一起商量还款计划。",
    "特此通告您：本期账单已出。",
    "友情忠告您：请按时还款。",
    "我们将向征信机构报告您的还款记录。",
    "特此函告你方", "详情面告您", "已电告您本人", "避免被手机拦截拉黑。",
]

THREATS_ZH = [  # telling the debtor's circle, blacklisting: said as what will happen
    ("再不还款，我们就通知家人", "third_party_disclosure"),
    ("再不还款，我们就告诉家人", "third_party_disclosure"),
    ("再不还款，我们就通知单位", "third_party_disclosure"),
    ("再不还款，我们将联系你的家人", "third_party_disclosure"),
    ("再不还款，我们将告诉您的家人", "third_party_disclosure"),
    ("我们会告诉家人你欠钱不还", "third_party_disclosure"),
    ("再不还款，通知您的同事", "third_party_disclosure"),
    ("我们会通知你父母", "third_party_disclosure"),
    ("爆你通讯录", "third_party_disclosure"),
    ("通知你的家人和單位", "third_party_disclosure"),
    ("再不还款，全网拉黑", "false_blacklist"),
    ("再不还款，所有平台拉黑你", "false_blacklist"),
    ("逾期将被各大银行拉黑", "false_blacklist"),
    ("你的征信会被拉黑", "false_blacklist"),
    ("不还钱就告你", "legal_threat"),
    ("不还就告您", "legal_threat"),
]

THREATS = [
    ("if you don't pay we will sue", "legal_threat"),
    ("If you don't pay, we will sue you.", "legal_threat"),
    ("We won't hesitate to sue.", "legal_threat"),
    ("We will not hesitate to take legal action.", "legal_threat"),
    ("Don't make us sue you.", "legal_threat"),
    ("Don't think we won't sue you.", "legal_threat"),
    ("We will not sue you if you pay today.", "legal_threat"),
    ("If you pay, we will not sue you.", "legal_threat"),
    ("We will not sue you yet.", "legal_threat"),
    ("We will not only sue you but also garnish your wages.", "legal_threat"),
    ("We will not wait: we will sue.", "legal_threat"),
    ("We won't wait any longer, you will be arrested.", "threat_arrest"),
    ("We will not stop until you are arrested.", "threat_arrest"),
    ("不还钱就起诉你", "legal_threat"),
    ("我们不会手软，将起诉", "legal_threat"),
    ("我们不会手软将起诉你", "legal_threat"),
    ("我们暂时不会起诉你", "legal_threat"),
    ("只要你还款就不会起诉", "legal_threat"),
    ("我们不会不起诉你", "legal_threat"),
    ("不起诉你才怪", "legal_threat"),
    ("不还就让你坐牢", "threat_arrest"),
    # A negation ending one clause governs nothing in the next, commas or not; a negated
    # subject is no negator ("nobody", "no one" negate nothing; see the review of 2026-12-03).
    ("Whether you pay or not you will go to jail", "threat_arrest"),
    ("Pay or not you can be arrested", "threat_arrest"),
    ("Answer or not you will face legal action", "legal_threat"),
    ("Pay or not\nyou will go to jail", "threat_arrest"),
    ("You are nobody you will be arrested", "threat_arrest"),
    ("Tell nobody you will be arrested", "threat_arrest"),
    ("Trust no one you will be arrested", "threat_arrest"),
    ("no you may be jailed", "threat_arrest"),
    ("Nobody will be arrested, only you", "threat_arrest"),
    ("Nobody will go to jail except you", "threat_arrest"),
    ("No one will be sued other than you", "legal_threat"),
    ("Neither jail nor arrest is off the table", "threat_arrest"),
    ("Not in jail? You will be soon.", "threat_arrest"),
    ("Not in court? You will be.", "legal_threat"),
    ("You are not in jail. Yet.", "threat_arrest"),
    ("Neither the police nor the court will wait", "threat_arrest"),
    ("Nobody will be arrested. You will be.", "threat_arrest"),
    ("No one will be jailed. Just kidding, you will.", "threat_arrest"),
]

NEGATABLE = ("legal_threat", "threat_arrest", "threat_violence", "exaggerated_consequence",
             "third_party_disclosure", "unlawful_seizure", "false_blacklist", "overshadowing")


@pytest.mark.parametrize("text", REQUIRED_DISCLOSURES)
def test_required_disclosures_are_not_threats(text: str) -> None:
    assert not screen(text).of(*NEGATABLE), screen(text).of(*NEGATABLE)


@pytest.mark.parametrize("text", ORDINARY_ZH)
def test_ordinary_service_messages_hold_no_threat(text: str) -> None:
    assert not screen(text).of(*NEGATABLE, "legal_threat"), screen(text).matches


@pytest.mark.parametrize(("text", "category"), THREATS_ZH)
def test_chinese_threats_to_the_debtors_circle_and_blacklists_are_caught(
        text: str, category: str) -> None:
    assert screen(text).has(category), screen(text).matches


@pytest.mark.parametrize(("text", "category"), THREATS)
def test_negation_that_does_not_govern_the_threat_leaves_it_standing(
    text: str, category: str
) -> None:
    assert screen(text).has(category), text


def _vocabulary() -> set[str]:
    vocab = negation()
    words_ = set(vocab.en_negators) | set(vocab.en_cues)
    for phrase in vocab.en_conditions + vocab.en_temporal:
        words_.update(phrase)
    return words_


def _clean(phrase: str) -> bool:
    """Phrases that carry no negation or limiter word of their own."""
    return not set(words(phrase).split()) & _vocabulary()


NEGATABLE_EN = [(c, p) for c, p in _en_phrases(*NEGATABLE) if _clean(p)]
NEGATABLE_ZH = [
    (c.name, p)
    for c in default_lexicon().categories
    if c.compact and c.name in NEGATABLE
    for p in c.phrases
    if not any(
        w in compact(p)[0]
        for w in negation().zh_negators + negation().zh_temporal + negation().zh_conditions
    )
]


def _reported(text: str, category: str, phrase: str) -> bool:
    return any(m.phrase == phrase for m in screen(text).of(category))


@settings(max_examples=400, deadline=None)
@given(
    entry=st.sampled_from(NEGATABLE_EN),
    template=st.sampled_from([
        "We will not {}.", "We will never {}.", "We cannot {}.", "We won't ever {}.",
        "Because of the age of your debt, we will not {} for it.",
    ]),
)
def test_every_negatable_phrase_is_negated_by_a_governing_negator(
    entry: tuple[str, str], template: str
) -> None:
    category, phrase = entry
    assert not _reported(template.format(phrase), category, phrase)


@settings(max_examples=400, deadline=None)
@given(
    entry=st.sampled_from(NEGATABLE_EN),
    template=st.sampled_from([
        "If you don't pay, we will {}.", "We won't hesitate to {}.", "We will not wait: {}.",
        "Don't think we won't {}.", "We will not {} if you pay today.", "We will not {} yet.",
        "We do not want to wait; {}.", "Not only will we {}.",
        "Nobody can help you: we will {}.", "No, we will {}.", "Not paying will result in {}.",
        "There is no one who will not {}.", "No payment today will {}.",
    ]),
)
def test_every_negatable_phrase_stays_a_threat_when_the_negation_is_elsewhere(
    entry: tuple[str, str], template: str
) -> None:
    category, phrase = entry
    assert _reported(template.format(phrase), category, phrase), template.format(phrase)


@settings(max_examples=300, deadline=None)
@given(
    entry=st.sampled_from(NEGATABLE_ZH),
    negated=st.sampled_from(["我们不会{}。", "您不会{}。", "我们绝不{}。"]),
    threat=st.sampled_from([
        "不还钱就{}", "我们不会手软，{}", "我们不会手软将{}", "我们暂时不会{}",
        "只要你还款就不会{}", "我们不会不{}", "不{}才怪",
    ]),
)
def test_every_chinese_negatable_phrase_in_both_classes(
    entry: tuple[str, str], negated: str, threat: str
) -> None:
    category, phrase = entry
    assert not _reported(negated.format(phrase), category, phrase)
    assert _reported(threat.format(phrase), category, phrase), threat.format(phrase)


def test_statute_of_limitations_is_not_a_lawsuit() -> None:
    assert not screen("该债务已超过诉讼时效").has("legal_threat")
    assert screen("我们将提起诉讼").has("legal_threat")


def test_every_lexicon_entry_names_the_rules_it_serves() -> None:
    """Each category cites rule ids, and the ids of the rules that screen it (US-29, US-30,
    CN-6, CN-7): a phrase added to a category is added under those rules."""
    from arrears.compliance.packs import cn, us

    screened_by = {name: "US-29" for name in us.FORBIDDEN_HARASSMENT}
    screened_by.update({name: "US-30" for name in us.FORBIDDEN_FALSE})
    for category in default_lexicon().categories:
        assert category.refs and all(
            ref.split("-")[0] in ("US", "CN") and ref.split("-")[1].isdigit()
            for ref in category.refs
        ), category.name
        if category.name in screened_by:
            assert screened_by[category.name] in category.refs, category.name
        if category.name in cn.FORBIDDEN_CONDUCT:
            assert "CN-7" in category.refs, category.name


# --- review: evasions that passed the screen, disclosures it blocked ------------------------

_FORBIDDEN = frozenset(c.name for c in default_lexicon().categories if c.forbidden)


def _blocked(text: str) -> bool:
    return any(m.category in _FORBIDDEN for m in screen(text).matches)


@pytest.mark.parametrize("text", [
    "You will be arr&#101;sted",  # HTML character references
    "You will be &#97;rrested",
    "You will be arr&eacute;sted",
    "坐&#29282;",
    "You will be ar-\nrested",  # a word broken across lines
    "You will be arr\nested",
    "a\nr\nr\ne\ns\nt",  # spelled down the lines
    "You will be a😀rrested",  # a pictograph inside a word
    "a    r    r    e    s    t",  # long runs of spaces between the letters
    "坐ｌ牢",  # a Latin letter wedged between Chinese characters
    "We will have you jailed", "we will put you behind bars", "we'll have you detained",
    "you won't be arrested, you'll be imprisoned", "you will be deported",
    "we know where u live", "we'll tell ur boss", "we'll inform your employer about this",
    "you're a dead beat", "you are a dead-beat", "black-listed",
    "我们会报警", "吃牢饭", "把你抓起来", "刑拘", "绝不放过你", "我们不会让你好过", "没好果子吃",
    "告诉你全家", "家人都会知道", "猪狗不如", "征信黑户",
])
def test_review_evasions_are_caught(text: str) -> None:
    assert _blocked(text), text


@pytest.mark.parametrize("text", [
    "We will not\nbe arrested for this.".replace("We will", "You will"),  # a wrapped line
    "Not paying a debt is not a crime.",
    "Federal law prohibits debt collectors from threatening arrest.",
    "Debt collectors may not threaten arrest or jail.",
    "Debt collectors are prohibited from threatening you with arrest.",
    "If you are threatened with arrest, contact the CFPB.",
    "This is not a threat of arrest.",
    "We will not sue you and we will not have you arrested.",
    "We cannot and will not have you arrested or imprisoned.",
    "We are not a law enforcement agency.",
    "You can contact your state attorney general.",
    "We do not intend to sue you today.",
    "严禁以贷养贷", "严禁催收人员威胁坐牢。", "禁止爆通讯录", "您不会被列入黑名单。",
    "我们不是公安局，也不会冒充公安局。", "本短信不是法院传票", "谨防冒充公检法诈骗",
])
def test_review_disclosures_pass(text: str) -> None:
    assert not _blocked(text), [m for m in screen(text).matches if m.category in _FORBIDDEN]


@pytest.mark.parametrize("text", [
    "We won't stop, you will\n\nbe arrested",  # a blank line ends the negation's sentence
    "Don't pay and jail awaits", "We won't sue. Jail or prison it is",
    "我不是骗你，我们是公安局", "想不坐牢就还钱", "我们不是催收公司，是法院执行局",
    "Not paying? You'll be arrested.",
])
def test_review_threats_beside_the_new_negation_rules_still_block(text: str) -> None:
    assert _blocked(text), text
