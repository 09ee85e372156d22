"""Bureau code tables, each with its source, and the mappings from a month's figures to codes.

Sources (shared/reference/rules.md): M2-3 account status, M2-4 payment rating, M2-5 payment
history profile, M2-6 date of first delinquency, M2-8 compliance condition codes, M2-9 special
comments; CN-25 PBOC repayment status (还款状态), CN-23 objections (异议). What rules.md marks
[U] is a parameter (`Classification`, `SPECIAL_COMMENTS`), not a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from arrears.domain.errors import DomainError

# --- Metro 2 -----------------------------------------------------------------------------

METRO2_DPD_BANDS: tuple[tuple[int, str, str], ...] = (
    (0, "11", "0"),
    (30, "71", "1"),
    (60, "78", "2"),
    (90, "80", "3"),
    (120, "82", "4"),
    (150, "83", "5"),
    (180, "84", "6"),
)
"""M2-3 / M2-5: (lowest DPD, account status, history-profile and payment-rating code)."""

CHARGED_OFF = "97"  # M2-3: unpaid balance reported as loss
PAID_CHARGED_OFF = "64"  # M2-3: paid in full, was a charge-off
CLOSED = "13"  # M2-3: paid or closed, zero balance
CHARGE_OFF_CODE = "L"  # M2-4 rating / M2-5 profile: charge-off
NO_HISTORY = "B"  # M2-5: no history before this month (trailing fill only)
NO_DATA_MONTH = "D"  # M2-5: no history this month (may be embedded)

METRO2_STATUSES: tuple[str, ...] = (
    "DF", "DA", "05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83",
    "84", "88", "89", "93", "94", "95", "96", "97",
)
"""M2-3 codes, in the order the trailer counts them (moov-io trailer layout, M2-1)."""

RATED_STATUSES = frozenset({"05", "13", "65", "88", "89", "94", "95"})
"""M2-4: the Payment Rating is required for these statuses and blank for every other."""

DELINQUENT_STATUSES = frozenset(
    {"61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89", "93", "94",
     "95", "96", "97"})
"""M2-6: statuses that carry a Date of First Delinquency."""

DELINQUENT_RATINGS = frozenset("123456GL")
"""M2-4 / M2-6: the ratings of a rated status that carry the DOFD of the delinquency behind
them."""
RATINGS = frozenset("0123456GL")
"""M2-4: every value a payment rating may hold."""


def carries_dofd(status: str, rating: str) -> bool:
    """M2-6: a delinquent status, or a rated one (05, 13, …) rated 1–6, G or L."""
    return status in DELINQUENT_STATUSES or (
        status in RATED_STATUSES and rating in DELINQUENT_RATINGS)


PROFILE_CODES = frozenset("0123456BDEGHJKL")
"""M2-5: the only values a payment history profile may hold."""

PROFILE_RANK = {code: rank for rank, (_, _, code) in enumerate(METRO2_DPD_BANDS)}
"""M2-5: how late each numeric profile code is (0 current … 6 180+)."""

STATUS_PROFILE = {status: code for _, status, code in METRO2_DPD_BANDS}
"""M2-3 / M2-5: the profile code of each days-past-due status."""


def metro2_band(dpd: int) -> tuple[str, str]:
    """(account status, profile code) for `dpd` days past due (M2-3, M2-5)."""
    found = METRO2_DPD_BANDS[0]
    for band in METRO2_DPD_BANDS:
        if dpd >= band[0]:
            found = band
    return found[1], found[2]


def metro2_status(dpd: int, *, written_off: bool, closed: bool) -> str:
    """M2-3: the account status at the Date of Account Information."""
    if written_off:
        return PAID_CHARGED_OFF if closed else CHARGED_OFF
    if closed:
        return CLOSED
    return metro2_band(dpd)[0]


def payment_rating(status: str, worst_dpd: int) -> str:
    """M2-4: the rating of a closed account is how late it was in its last month; blank for
    statuses that take none."""
    if status not in RATED_STATUSES:
        return " "
    return metro2_band(worst_dpd)[1]


def profile_code(status: str, worst_dpd: int) -> str:
    """M2-5: the month's code in later months' payment history profile."""
    if status in (CHARGED_OFF, PAID_CHARGED_OFF):
        return CHARGE_OFF_CODE
    if status == CLOSED:
        return metro2_band(worst_dpd)[1]
    return STATUS_PROFILE[status]


class ConditionCode(StrEnum):
    """M2-8 compliance condition codes used for disputes."""

    NONE = "  "
    UNDER_INVESTIGATION = "XB"  # FCRA dispute under investigation
    INVESTIGATED = "XH"  # previously disputed, investigation completed
    REMOVE = "XR"  # removes the most recently reported code


SPECIAL_COMMENTS: dict[str, str] = {
    "deferral": "CP",  # forbearance
    "holiday": "CP",
    "reage": "AC",  # partial payment agreement
    "reamortize": "AC",
    "settlement": "AU",  # paid in full for less than the full balance
}
"""M2-9: special comment per plan kind. Which CRRG comment fits each kind of our plans is
[U] (M2-0: the CRRG is licensed); override by passing another table to the handler."""


class FurnisherKind(StrEnum):
    """Who furnishes the file, which decides the account type (M2-9) and whether each record
    carries the original creditor's name in a K1 segment (M2-1: collection agencies and debt
    buyers report it)."""

    CREDITOR = "creditor"
    COLLECTION_AGENCY = "collection_agency"
    DEBT_BUYER = "debt_buyer"


ACCOUNT_TYPES = {FurnisherKind.CREDITOR: "01", FurnisherKind.COLLECTION_AGENCY: "48",
                 FurnisherKind.DEBT_BUYER: "0C"}
"""M2-9: 01 unsecured (our own loans), 48 collection agency/attorney, 0C debt buyer."""

NEEDS_ORIGINAL_CREDITOR = frozenset({FurnisherKind.COLLECTION_AGENCY, FurnisherKind.DEBT_BUYER})
"""M2-1: the furnishers whose records carry a K1 segment."""

CREDITOR_CLASSIFICATIONS = {
    1: "retail", 2: "medical/health care", 3: "oil company", 4: "government",
    5: "personal services", 6: "insurance", 7: "educational", 8: "banking",
    9: "rental/leasing", 10: "utilities", 11: "cable/cellular",
    12: "financial (non-bank)", 13: "credit union", 14: "automotive", 15: "check guarantee"}
"""K1 creditor classification: the list in moov-io `kn_segment.go` (the M2 source); not in
rules.md, so [U] — the furnisher names the class, nothing here defaults it."""

ECOA_CODES = frozenset("12357TXWZ")
"""M2-9: individual, joint, authorized user, co-maker/guarantor, maker, terminated, deceased,
business, delete consumer."""
ECOA_INDIVIDUAL = "1"  # M2-9
ECOA_JOINT = "2"
ECOA_CO_MAKER = "5"  # co-maker or guarantor
ECOA_MAKER = "7"  # the primary consumer of an account a co-maker guarantees

LIABLE_RELATIONS: dict[str, str] = {"guarantor": ECOA_CO_MAKER}
"""Which of a borrower's contacts are liable for the loan, and their ECOA code (M2-9): the
book's contacts are mostly people to reach (spouse, parent, emergency contact) who owe
nothing and must never be reported; only a guarantor — a debtor to the compliance packs too
(CN-4, US-1's consumer) — is. A parameter ([U]: which relations a lender's contracts make
liable), passed to the Metro 2 writer."""


def base_ecoa(associated_codes: frozenset[str]) -> str:
    """M2-9: the base segment's consumer is 2 (joint) beside a joint borrower, 7 (maker) beside
    a co-maker or guarantor, and 1 (individual) alone."""
    if ECOA_JOINT in associated_codes:
        return ECOA_JOINT
    if ECOA_CO_MAKER in associated_codes:
        return ECOA_MAKER
    return ECOA_INDIVIDUAL


# --- PBOC (CN-25) ------------------------------------------------------------------------

PBOC_DPD_CODES: tuple[tuple[int, str], ...] = (
    (1, "1"), (31, "2"), (61, "3"), (91, "4"), (121, "5"), (151, "6"), (181, "7"))
"""CN-25: 1 = 1–30 days overdue … 7 = more than 180."""

PBOC_NORMAL = "N"  # paid in full on time
PBOC_SETTLED = "C"  # settled / closed with zero balance
PBOC_ENDED = "G"  # ended other than by settlement (here: a written-off loan fully recovered)
PBOC_NOT_OPEN = "/"  # account not opened
PBOC_NO_DUTY = "*"  # no repayment obligation this month
PBOC_UNKNOWN = "#"  # open, status unknown
PBOC_CODES = frozenset("N1234567CGDZ/*#")
"""CN-25: every value the 24-month string may hold (D, Z: guarantor, assets — not produced
by this book, accepted on input)."""


def pboc_overdue_code(dpd: int) -> str:
    code = PBOC_NORMAL
    for low, digit in PBOC_DPD_CODES:
        if dpd >= low:
            code = digit
    return code


def pboc_code(dpd: int, *, closed: bool, written_off: bool, due_this_month: bool,
              grace_days: int) -> str:
    """CN-25: the month's repayment status. DPD inside the product's grace window is not
    negative (DESIGN §9: an installment paid within grace is not reported)."""
    if closed:
        return PBOC_ENDED if written_off else PBOC_SETTLED
    if dpd > grace_days:
        return pboc_overdue_code(dpd)
    return PBOC_NORMAL if due_this_month or dpd > 0 else PBOC_NO_DUTY


class AccountStatus(StrEnum):
    """The PBOC-style account status (账户状态); the value is the code in our record."""

    NORMAL = "1"  # 正常
    OVERDUE = "2"  # 逾期
    SETTLED = "3"  # 结清
    BAD_DEBT = "4"  # 呆账


ACCOUNT_STATUS_NAMES = {AccountStatus.NORMAL: "正常", AccountStatus.OVERDUE: "逾期",
                        AccountStatus.SETTLED: "结清", AccountStatus.BAD_DEBT: "呆账"}


def account_status(dpd: int, *, closed: bool, written_off: bool, grace_days: int
                   ) -> AccountStatus:
    if written_off and not closed:
        return AccountStatus.BAD_DEBT
    if closed:
        return AccountStatus.SETTLED
    return AccountStatus.OVERDUE if dpd > grace_days else AccountStatus.NORMAL


class LoanClass(StrEnum):
    """Five-level loan classification (五级分类); the value is the code in our record."""

    PASS = "1"  # 正常
    SPECIAL_MENTION = "2"  # 关注
    SUBSTANDARD = "3"  # 次级
    DOUBTFUL = "4"  # 可疑
    LOSS = "5"  # 损失


CLASS_NAMES = {LoanClass.PASS: "正常", LoanClass.SPECIAL_MENTION: "关注",
               LoanClass.SUBSTANDARD: "次级", LoanClass.DOUBTFUL: "可疑", LoanClass.LOSS: "损失"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """The lowest DPD of each class above 正常. The regulator's mapping from DPD to class is
    [U] (rules.md has none): these defaults are common practice and a pack parameter."""

    special_mention_from: int = 1
    substandard_from: int = 91
    doubtful_from: int = 181
    loss_from: int = 361

    def __post_init__(self) -> None:
        bounds = (self.special_mention_from, self.substandard_from, self.doubtful_from,
                  self.loss_from)
        if not 0 < bounds[0] < bounds[1] < bounds[2] < bounds[3]:
            raise DomainError("classification", f"thresholds must rise from 1 (got {bounds})")

    def of(self, dpd: int, *, written_off: bool) -> LoanClass:
        if written_off or dpd >= self.loss_from:
            return LoanClass.LOSS
        if dpd >= self.doubtful_from:
            return LoanClass.DOUBTFUL
        if dpd >= self.substandard_from:
            return LoanClass.SUBSTANDARD
        if dpd >= self.special_mention_from:
            return LoanClass.SPECIAL_MENTION
        return LoanClass.PASS


class SpecialKind(StrEnum):
    """Special transactions (特殊交易) in our record; the value is the code."""

    EXTENSION = "1"  # 展期: a deferral, holiday, re-age or re-amortisation
    PREPAYMENT = "4"  # 提前还款 (部分): principal repaid before it fell due
    PREPAID_IN_FULL = "5"  # 提前结清
    RELIEF = "6"  # 债务减免: amounts waived by a plan
    WRITE_OFF = "7"  # 核销
    RECOVERY = "8"  # 核销后收回


SPECIAL_NAMES = {SpecialKind.EXTENSION: "展期", SpecialKind.PREPAYMENT: "提前还款",
                 SpecialKind.PREPAID_IN_FULL: "提前结清", SpecialKind.RELIEF: "债务减免",
                 SpecialKind.WRITE_OFF: "核销", SpecialKind.RECOVERY: "核销后收回"}

OBJECTION_DAYS = 20
"""CN-23: days from an objection's receipt to the written reply; calendar days [U]."""
