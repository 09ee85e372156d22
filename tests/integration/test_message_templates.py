"""The shipped message templates: the shared lines (`_lines.j2`: the lender's identification,
the service line, the opt-out and debt-collector lines) say what the render's context says, in
every template and language, whatever the values."""

from __future__ import annotations

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.adapters.channels.render import JinjaRenderer

RENDERER = JinjaRenderer()
TEMPLATES = ("reminder", "overdue", "notice", "plan_offer")
"""The templates that carry the shared lines (a call script reads them out differently)."""
OPT_OUT = {"zh-CN": "回复TD退订", "en": "Reply STOP to opt out."}
DISCLOSURE = "This is a communication from a debt collector."
IDENTIFICATION = {"zh-CN": "【{}】", "en": "[{}]"}
SERVICE = {"zh-CN": "客服电话 {}", "en": "Customer service: {}."}

words = st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1,
                max_size=12)


def _context(lender: str, phone: str, opt_out: bool, debt_collector: bool) -> dict[str, object]:
    return {"lender": lender, "service_phone": phone, "repayment_account": "ICBC-0001",
            "name": "王伟", "loan_tail": "0034", "installment": 2, "amount": "214.67",
            "currency": "CNY", "due_on": "2026-03-15", "days_to_due": 3, "dpd": 4,
            "disbursed_on": "2025-11-15", "as_of": "2026-03-19", "opt_out": opt_out,
            "debt_collector": debt_collector, "offer_plan": "P-1", "offer_kind": "reage",
            "offer_payments": 6, "offer_first_amount": "100.00",
            "offer_first_due": "2026-04-01", "offer_total": "600.00", "owed_now": "580.00"}


@settings(max_examples=60, deadline=None)
@given(template=st.sampled_from(TEMPLATES), language=st.sampled_from(("zh-CN", "en")),
       lender=words, phone=words, opt_out=st.booleans(), debt_collector=st.booleans())
def test_the_shared_lines_follow_the_context(template: str, language: str, lender: str,
                                             phone: str, opt_out: bool,
                                             debt_collector: bool) -> None:
    first = RENDERER.render(template, language, _context(lender, phone, opt_out,
                                                         debt_collector))
    # Rendered again with the other switches: the lines of one message never leak into the
    # next (the macros' module is built once and shared).
    second = RENDERER.render(template, language, _context(lender + "x", phone + "9",
                                                          not opt_out, not debt_collector))
    for rendered, (name, number, opt, collector) in (
            (first, (lender, phone, opt_out, debt_collector)),
            (second, (lender + "x", phone + "9", not opt_out, not debt_collector))):
        text = rendered.body
        assert IDENTIFICATION[language].format(name) in text
        assert SERVICE[language].format(number) in text
        assert (OPT_OUT[language] in text) is opt
        if language == "en":
            assert (DISCLOSURE in text) is collector


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("missing", ["lender", "service_phone", "opt_out"])
def test_a_line_without_its_value_is_an_error_not_a_blank(template: str, missing: str) -> None:
    context = _context("安睿消费金融", "400-800-1234", True, False)
    del context[missing]
    with pytest.raises(jinja2.UndefinedError):
        RENDERER.render(template, "zh-CN", context)


def test_a_context_naming_the_line_macros_is_refused() -> None:
    """The macros are the global `l`: a variable of that name would hide them."""
    with pytest.raises(ValueError, match=r"context\.l"):
        RENDERER.render("reminder", "en", {**_context("L", "1", True, False), "l": "x"})


def test_a_directory_of_its_own_needs_no_line_macros(tmp_path) -> None:
    """Templates that neither call `l` nor ship `_lines.j2` render; one including a template
    that is not there is that template's error, not "no template"."""
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "hello.txt.j2").write_text("Hello {{ name }}")
    (tmp_path / "en" / "broken.txt.j2").write_text("{% include 'en/gone.j2' %}")
    renderer = JinjaRenderer(tmp_path)
    assert renderer.render("hello", "en", {"name": "Wei"}).body == "Hello Wei"
    with pytest.raises(jinja2.TemplateNotFound, match="gone"):
        renderer.render("broken", "en", {})
    with pytest.raises(LookupError, match="no template 'absent'"):
        renderer.render("absent", "en", {})
