"""Who did what, as the book records it (`Principal.identity`): the same person is the same
identity through the API and the web pages, and no name of one kind passes for another — a
web user named like a collector, an agency or an API key is none of them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from arrears.application.access import ROLE_SCOPES, WEB_PREFIX, Principal, Role, new_key
from arrears.application.web_users import USER_NAME

USER_NAMES = st.from_regex(USER_NAME, fullmatch=True)
# A collector ref holds no colon or comma (`casework.add_collector`); anything else goes.
COLLECTOR_REFS = st.text(min_size=1, max_size=40).filter(
    lambda ref: ref.strip() != "" and ":" not in ref and "," not in ref)
KEY_REFS = st.builds(lambda _: new_key()[0], st.integers())


def principal(role: Role, key_ref: str, **refs: str) -> Principal:
    return Principal(key_ref=key_ref, role=role, scopes=ROLE_SCOPES[role], **refs)


@given(USER_NAMES, COLLECTOR_REFS, KEY_REFS)
def test_a_web_user_is_never_a_collector_an_agency_or_a_key(name: str, collector: str,
                                                            key_ref: str) -> None:
    others = {
        principal(Role.COLLECTOR, key_ref, collector_ref=collector).identity,
        principal(Role.AGENCY, key_ref, agency_ref=name).identity,
        principal(Role.SUPERVISOR, key_ref).identity,
    }
    for role in (Role.SUPERVISOR, Role.ADMIN, Role.COMPLIANCE):
        assert principal(role, WEB_PREFIX + name).identity not in others
    assert principal(Role.SUPERVISOR, WEB_PREFIX + name).identity == f"web:{name}"


@given(USER_NAMES, COLLECTOR_REFS, KEY_REFS)
def test_a_collector_is_one_identity_through_the_web_and_the_api(
        name: str, collector: str, key_ref: str) -> None:
    through_web = principal(Role.COLLECTOR, WEB_PREFIX + name, collector_ref=collector)
    through_api = principal(Role.COLLECTOR, key_ref, collector_ref=collector)
    assert through_web.identity == through_api.identity == collector


@given(USER_NAMES, KEY_REFS)
def test_an_agency_is_one_identity_through_the_web_and_the_api(name: str, key_ref: str
                                                               ) -> None:
    through_web = principal(Role.AGENCY, WEB_PREFIX + name, agency_ref="AG-1")
    through_api = principal(Role.AGENCY, key_ref, agency_ref="AG-1")
    assert through_web.identity == through_api.identity == "agency:AG-1"
    assert principal(Role.SYSTEM, key_ref).identity == f"key:{key_ref}"
