"""Complaint clocks by jurisdiction and source: how soon a complaint is acknowledged and
answered, and whether the answer may be extended (the rule family "complaints" of each pack).

CN: a complaint is decided and the complainant told within 15 days of receipt, extendable once
for a complex case (CBIRC 2020 Measures on handling consumer complaints, art. 18; extension
length [U]). US: a complaint the regulator refers (the CFPB portal) is answered within 15 days,
or told it is in progress and closed within 60 [U: from the CFPB's company guidance, not a
regulation]; complaints made to the collector directly have no federal clock, so the house
applies the referral's. Acknowledgement within 2 days is house policy everywhere [U].
"""

from __future__ import annotations

from arrears.domain.complaints import ComplaintClock, Source
from arrears.domain.errors import DomainError

HOUSE_ACKNOWLEDGE_DAYS = 2

CN = ComplaintClock(
    rule_id="cn.complaints.answer_within_15_days",
    citation="银行业保险业消费投诉处理管理办法 (CBIRC 2020) art. 18",
    acknowledge_days=HOUSE_ACKNOWLEDGE_DAYS, answer_days=15, extension_days=15, extensions=1,
    unconfirmed=True)
US_REFERRAL = ComplaintClock(
    rule_id="us.cfpb.referral_response",
    citation="CFPB company complaint portal: response in 15 days, final in 60 days",
    acknowledge_days=HOUSE_ACKNOWLEDGE_DAYS, answer_days=15, extension_days=45, extensions=1,
    unconfirmed=True)
US_DIRECT = ComplaintClock(
    rule_id="us.house.complaint_response",
    citation="house policy (no federal clock for complaints made to the collector)",
    acknowledge_days=HOUSE_ACKNOWLEDGE_DAYS, answer_days=15, extension_days=45, extensions=1,
    unconfirmed=True)


def clock_for(jurisdiction: str, source: Source) -> ComplaintClock:
    code = jurisdiction.upper()
    if code == "CN":
        return CN
    if code == "US":
        return US_REFERRAL if source is Source.REGULATOR else US_DIRECT
    raise DomainError("jurisdiction", f"no complaint clock for {jurisdiction!r}")
