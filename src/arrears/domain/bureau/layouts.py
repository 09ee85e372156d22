"""Fixed-width record layouts as data: Metro 2 (character format) and our PBOC-style record.

Positions are 1-based and inclusive, as the sources print them. Kinds: `N` numeric, right-
justified and zero-filled (money as whole units for Metro 2, minor units for PBOC); `A`
alphanumeric, left-justified and blank-filled, upper-case for Metro 2; `D` a date as digits
(Metro 2 MMDDYYYY, PBOC YYYYMMDD), all zeros when there is none. Every record is ASCII.

Sources: Metro 2 base segment M2-2 (rules.md), header, trailer and the J1, J2 and K1
segments from moov-io/metro2 `pkg/lib/specifications.go` (the M2 source of rules.md; CRRG
field numbers are [U], M2-0); record structure and segment lengths M2-1. A data record is the
base segment followed by its segments in the order J1, J2, K1 (M2-1); its record descriptor
word is the whole record's length (moov-io `base_segment.go`: base 426 + J2 200 + K1 34 =
RDW 0660). The PBOC record is ours (the README prints it), modelled on the PBOC
individual loan account segment (个人借贷账户): the regulator's own layout is not public.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    start: int  # 1-based
    length: int
    kind: str  # N, A or D
    constant: str = ""  # the value every record of the layout carries, if fixed

    @property
    def end(self) -> int:
        return self.start + self.length - 1


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    length: int
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        position = 1
        for field in self.fields:  # contiguous and complete: a typo cannot shift a field
            if field.start != position:
                raise ValueError(f"{self.name}.{field.name} starts at {field.start}, "
                                 f"expected {position}")
            position = field.end + 1
        if position != self.length + 1:
            raise ValueError(f"{self.name} covers {position - 1} bytes, not {self.length}")

    def field(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)


METRO2_LENGTH = 426  # M2-1: base, header and trailer, character format
RDW = "0426"  # record descriptor word: the record's length (no segments appended)

METRO2_BASE = Layout("metro2.base", METRO2_LENGTH, (
    Field("record_descriptor_word", 1, 4, "N", RDW),
    Field("processing_indicator", 5, 1, "N", "1"),
    Field("time_stamp", 6, 14, "N"),
    Field("correction_indicator", 20, 1, "N"),
    Field("identification_number", 21, 20, "A"),
    Field("cycle_identifier", 41, 2, "A"),
    Field("consumer_account_number", 43, 30, "A"),
    Field("portfolio_type", 73, 1, "A", "I"),  # M2-9: installment
    Field("account_type", 74, 2, "A", "01"),  # M2-9: unsecured (a creditor's own loan)
    Field("date_opened", 76, 8, "D"),
    Field("credit_limit", 84, 9, "N"),
    Field("highest_credit", 93, 9, "N"),
    Field("terms_duration", 102, 3, "A"),
    Field("terms_frequency", 105, 1, "A", "M"),  # M2-9: monthly
    Field("scheduled_monthly_payment", 106, 9, "N"),
    Field("actual_payment", 115, 9, "N"),
    Field("account_status", 124, 2, "A"),
    Field("payment_rating", 126, 1, "A"),
    Field("payment_history_profile", 127, 24, "A"),
    Field("special_comment", 151, 2, "A"),
    Field("compliance_condition_code", 153, 2, "A"),
    Field("current_balance", 155, 9, "N"),
    Field("amount_past_due", 164, 9, "N"),
    Field("original_charge_off_amount", 173, 9, "N"),
    Field("date_of_account_information", 182, 8, "D"),
    Field("date_of_first_delinquency", 190, 8, "D"),
    Field("date_closed", 198, 8, "D"),
    Field("date_of_last_payment", 206, 8, "D"),
    Field("interest_type_indicator", 214, 1, "A", "F"),
    Field("reserved", 215, 17, "A"),
    Field("surname", 232, 25, "A"),
    Field("first_name", 257, 20, "A"),
    Field("middle_name", 277, 20, "A"),
    Field("generation_code", 297, 1, "A"),
    Field("social_security_number", 298, 9, "N"),
    Field("date_of_birth", 307, 8, "D"),
    Field("telephone_number", 315, 10, "N"),
    Field("ecoa_code", 325, 1, "A", "1"),  # M2-9: individual, unless others are liable
    Field("consumer_information_indicator", 326, 2, "A"),
    Field("country_code", 328, 2, "A"),
    Field("first_line_of_address", 330, 32, "A"),
    Field("second_line_of_address", 362, 32, "A"),
    Field("city", 394, 20, "A"),
    Field("state", 414, 2, "A"),
    Field("zip_code", 416, 9, "A"),
    Field("address_indicator", 425, 1, "A"),
    Field("residence_code", 426, 1, "A"),
))

METRO2_HEADER = Layout("metro2.header", METRO2_LENGTH, (
    Field("record_descriptor_word", 1, 4, "N", RDW),
    Field("record_identifier", 5, 6, "A", "HEADER"),
    Field("cycle_identifier", 11, 2, "A"),
    Field("innovis_program_identifier", 13, 10, "A"),
    Field("equifax_program_identifier", 23, 10, "A"),
    Field("experian_program_identifier", 33, 5, "A"),
    Field("transunion_program_identifier", 38, 10, "A"),
    Field("activity_date", 48, 8, "D"),
    Field("date_created", 56, 8, "D"),
    Field("program_date", 64, 8, "D"),
    Field("program_revision_date", 72, 8, "D"),
    Field("reporter_name", 80, 40, "A"),
    Field("reporter_address", 120, 96, "A"),
    Field("reporter_telephone_number", 216, 10, "N"),
    Field("software_vendor_name", 226, 40, "A", "ARREARS"),
    Field("software_version_number", 266, 5, "A"),
    Field("prbc_program_identifier", 271, 10, "A"),
    Field("reserved", 281, 146, "A"),
))

TRAILER_STATUS_COUNTS: tuple[str, ...] = (
    "DA", "05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84",
    "88", "89", "93", "94", "95", "96", "97")
"""The statuses the trailer counts at 66-263, in order (DF has its own place at 30)."""

METRO2_TRAILER = Layout("metro2.trailer", METRO2_LENGTH, (
    Field("record_descriptor_word", 1, 4, "N", RDW),
    Field("record_identifier", 5, 7, "A", "TRAILER"),
    Field("total_base_records", 12, 9, "N"),
    Field("reserved_1", 21, 9, "A"),
    Field("total_status_DF", 30, 9, "N"),
    Field("total_j1_segments", 39, 9, "N"),
    Field("total_j2_segments", 48, 9, "N"),
    Field("block_count", 57, 9, "N"),
    *(Field(f"total_status_{code}", 66 + 9 * i, 9, "N")
      for i, code in enumerate(TRAILER_STATUS_COUNTS)),
    Field("total_ecoa_z", 264, 9, "N"),
    Field("total_employment_segments", 273, 9, "N"),
    Field("total_original_creditor_segments", 282, 9, "N"),
    Field("total_purchased_sold_segments", 291, 9, "N"),
    Field("total_mortgage_segments", 300, 9, "N"),
    Field("total_payment_information_segments", 309, 9, "N"),
    Field("total_change_segments", 318, 9, "N"),
    Field("total_ssn_all_segments", 327, 9, "N"),
    Field("total_ssn_base_segments", 336, 9, "N"),
    Field("total_ssn_j1_segments", 345, 9, "N"),
    Field("total_ssn_j2_segments", 354, 9, "N"),
    Field("total_dob_all_segments", 363, 9, "N"),
    Field("total_dob_base_segments", 372, 9, "N"),
    Field("total_dob_j1_segments", 381, 9, "N"),
    Field("total_dob_j2_segments", 390, 9, "N"),
    Field("total_telephone_all_segments", 399, 9, "N"),
    Field("reserved_2", 408, 19, "A"),
))

def _associated(name: str, length: int, tail: tuple[Field, ...]) -> Layout:
    """J1 and J2 share their first 99 bytes: the associated consumer's name and identity."""
    return Layout(name, length, (
        Field("segment_identifier", 1, 2, "A", name[-2:].upper()),
        Field("reserved_1", 3, 1, "A"),
        Field("surname", 4, 25, "A"),
        Field("first_name", 29, 20, "A"),
        Field("middle_name", 49, 20, "A"),
        Field("generation_code", 69, 1, "A"),
        Field("social_security_number", 70, 9, "N"),
        Field("date_of_birth", 79, 8, "D"),
        Field("telephone_number", 87, 10, "N"),
        Field("ecoa_code", 97, 1, "A"),  # M2-9: 2 joint, 5 co-maker/guarantor …
        Field("consumer_information_indicator", 98, 2, "A"),
        *tail,
    ))


METRO2_J1 = _associated("metro2.j1", 100, (Field("reserved_2", 100, 1, "A"),))
"""M2-1: an associated consumer at the same address as the base segment's consumer."""

METRO2_J2 = _associated("metro2.j2", 200, (
    Field("country_code", 100, 2, "A"),
    Field("first_line_of_address", 102, 32, "A"),
    Field("second_line_of_address", 134, 32, "A"),
    Field("city", 166, 20, "A"),
    Field("state", 186, 2, "A"),
    Field("zip_code", 188, 9, "A"),
    Field("address_indicator", 197, 1, "A"),
    Field("residence_code", 198, 1, "A"),
    Field("reserved_2", 199, 2, "A"),
))
"""M2-1: an associated consumer at an address of their own."""

METRO2_K1 = Layout("metro2.k1", 34, (
    Field("segment_identifier", 1, 2, "A", "K1"),
    Field("original_creditor_name", 3, 30, "A"),
    Field("creditor_classification", 33, 2, "N"),  # codes.CREDITOR_CLASSIFICATIONS
))
"""M2-1: the original creditor's name, reported by collection agencies and debt buyers."""

METRO2_SEGMENTS: tuple[Layout, ...] = (METRO2_J1, METRO2_J2, METRO2_K1)
"""The segments this system appends, in the order M2-1 requires (K2 … N1 are not produced)."""

SEGMENT_LENGTHS = {"J1": 100, "J2": 200, "K1": 34, "K2": 34, "K3": 40, "K4": 30, "L1": 54,
                   "N1": 146}
"""M2-1: every segment that may follow a base segment, in order, by identifier and length."""


# --- our PBOC-style layout (个人借贷账户记录), every record 300 bytes ---------------------------

PBOC_LENGTH = 300
PBOC_VERSION = "001"

PBOC_HEADER = Layout("pboc.header", PBOC_LENGTH, (
    Field("record_type", 1, 1, "A", "H"),
    Field("reporter_id", 2, 20, "A"),  # 数据提供机构代码
    Field("report_date", 22, 8, "D"),  # 报告期末日
    Field("created_on", 30, 8, "D"),
    Field("layout_version", 38, 3, "A", PBOC_VERSION),
    Field("reserved", 41, 260, "A"),
))

PBOC_ACCOUNT = Layout("pboc.account", PBOC_LENGTH, (
    Field("record_type", 1, 1, "A", "A"),
    Field("correction_flag", 2, 1, "N"),  # 1: re-sent to correct an earlier month
    Field("account_id", 3, 30, "A"),  # 账户标识码
    Field("account_type", 33, 2, "A", "D1"),  # 非循环贷账户
    Field("id_type", 35, 2, "A", "10"),  # 居民身份证
    Field("id_number", 37, 18, "A"),  # 证件号码
    Field("open_date", 55, 8, "D"),  # 开户日期
    Field("maturity_date", 63, 8, "D"),  # 到期日期
    Field("loan_amount", 71, 15, "N"),  # 借款金额 (minor units)
    Field("currency", 86, 3, "A"),  # 币种
    Field("terms", 89, 3, "N"),  # 还款期数
    Field("record_date", 92, 8, "D"),  # 信息报告日期 (the month's end, or the settlement day)
    Field("balance", 100, 15, "N"),  # 余额
    Field("overdue_terms", 115, 3, "N"),  # 当前逾期期数
    Field("overdue_amount", 118, 15, "N"),  # 当前逾期总额
    Field("overdue_principal_31_60", 133, 15, "N"),  # 逾期31-60天未还本金
    Field("overdue_principal_61_90", 148, 15, "N"),  # 逾期61-90天未还本金
    Field("overdue_principal_91_180", 163, 15, "N"),  # 逾期91-180天未还本金
    Field("overdue_principal_over_180", 178, 15, "N"),  # 逾期180天以上未还本金
    Field("loan_class", 193, 1, "N"),  # 五级分类 (codes.LoanClass)
    Field("account_status", 194, 1, "N"),  # 账户状态 (codes.AccountStatus)
    Field("repayment_status_24m", 195, 24, "A"),  # 24个月还款状态, oldest first (CN-25)
    Field("objection_mark", 219, 1, "N"),  # 异议标注 (CN-23)
    Field("scheduled_payment", 220, 15, "N"),  # 本月应还款金额
    Field("actual_payment", 235, 15, "N"),  # 本月实还款金额
    Field("last_payment_date", 250, 8, "D"),  # 最近一次实际还款日期
    Field("special_records", 258, 2, "N"),  # special-transaction records that follow
    Field("reserved", 260, 41, "A"),
))

PBOC_SPECIAL = Layout("pboc.special", PBOC_LENGTH, (
    Field("record_type", 1, 1, "A", "S"),
    Field("correction_flag", 2, 1, "N"),
    Field("account_id", 3, 30, "A"),
    Field("record_date", 33, 8, "D"),
    Field("kind", 41, 1, "N"),  # 特殊交易类型 (codes.SpecialKind)
    Field("transaction_date", 42, 8, "D"),  # 发生日期
    Field("amount", 50, 15, "N"),  # 发生金额 (minor units)
    Field("months_changed", 65, 3, "N"),  # 变更月数
    Field("reserved", 68, 233, "A"),
))

PBOC_STATUS_COUNTS: tuple[str, ...] = ("1", "2", "3", "4")
"""Account statuses the trailer counts (codes.AccountStatus: 正常, 逾期, 结清, 呆账)."""

PBOC_TRAILER = Layout("pboc.trailer", PBOC_LENGTH, (
    Field("record_type", 1, 1, "A", "T"),
    Field("account_records", 2, 9, "N"),
    Field("special_records", 11, 9, "N"),
    *(Field(f"total_status_{code}", 20 + 9 * i, 9, "N")
      for i, code in enumerate(PBOC_STATUS_COUNTS)),
    Field("reserved", 56, 245, "A"),
))

LAYOUTS: tuple[Layout, ...] = (METRO2_HEADER, METRO2_BASE, METRO2_TRAILER, *METRO2_SEGMENTS,
                               PBOC_HEADER, PBOC_ACCOUNT, PBOC_SPECIAL, PBOC_TRAILER)
