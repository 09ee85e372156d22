"""Wording screen: Chinese robust to width, script and inserted spaces; English by words."""

from __future__ import annotations

import pytest

from arrears.compliance.wording import compact, default_lexicon, screen


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
