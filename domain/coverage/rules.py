"""Pure coverage rules (no I/O): what counts as organisation coverage, work coverage, a gap
and 应建未建, and the consistency checks of an organisation's record.

Organisation coverage (组织覆盖): any coverage mode but "none". Work coverage (工作覆盖):
organisation-covered, or a party-building instructor (党建指导员) is named. A gap (党建真空)
is neither. 应建未建: at least three party members (the threshold for a party branch of
its own) but neither its own nor a joint organisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.enums import CoverageMode

# Three full members may form a branch of their own (党章第三十条).
SHOULD_BUILD_MEMBERS = 3
COVERING_MODES: frozenset[str] = frozenset(m.value for m in CoverageMode if m != CoverageMode.NONE)
BUILT_MODES: frozenset[str] = frozenset({CoverageMode.OWN.value, CoverageMode.JOINT.value})

# 统一社会信用代码: 18 characters of digits and uppercase letters (GB 32100-2015 excludes
# I, O, Z, S, V; we check the alphabet, the length and the check character).
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CODE_RE = re.compile(r"^[0-9A-Z]{18}$")


def org_covered(mode: str) -> bool:
    return mode in COVERING_MODES


def work_covered(mode: str, instructor_name: str) -> bool:
    return org_covered(mode) or bool(instructor_name.strip())


def is_gap(mode: str, instructor_name: str) -> bool:
    return not work_covered(mode, instructor_name)


def should_build(mode: str, party_members: int) -> bool:
    """应建未建: enough members for an organisation of its own, but no own or joint one."""
    return party_members >= SHOULD_BUILD_MEMBERS and mode not in BUILT_MODES


def rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


def credit_code_check_char(first17: str) -> str:
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(first17, _CODE_WEIGHTS, strict=True))
    return _CODE_CHARS[(31 - total % 31) % 31]


def normalise_code(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


def credit_code_error(code: str) -> str | None:
    """A Chinese message when `code` is not a valid unified social credit code, else None."""
    if not _CODE_RE.match(code):
        return "统一社会信用代码应为18位数字或大写字母。"
    if any(c not in _CODE_CHARS for c in code):
        return "统一社会信用代码含有不允许的字母（I、O、Z、S、V）。"
    if credit_code_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确，请核对。"
    return None


@dataclass(frozen=True)
class OrgFacts:
    """What the consistency rules look at."""

    mode: str
    party_org_name: str
    employees: int
    party_members: int
    instructor_name: str
    instructor_phone: str


def consistency_errors(f: OrgFacts) -> dict[str, str]:
    """Field → Chinese message for an organisation record that contradicts itself."""
    errors: dict[str, str] = {}
    if f.employees < 0:
        errors["employees"] = "从业人员不能为负数。"
    if f.party_members < 0:
        errors["party_members"] = "党员人数不能为负数。"
    if f.employees > 0 and f.party_members > f.employees:
        errors["party_members"] = "党员人数不能多于从业人员。"
    if f.mode in BUILT_MODES and not f.party_org_name.strip():
        errors["party_org_name"] = "单独建立或联合建立党组织的，请填写党组织名称。"
    if f.mode == CoverageMode.OWN.value and 0 <= f.party_members < SHOULD_BUILD_MEMBERS:
        errors["coverage_mode"] = "党员不足3名，不能单独建立党组织，可选择联合建立。"
    if f.instructor_phone.strip() and not f.instructor_name.strip():
        errors["instructor_name"] = "填写了联系电话，请同时填写党建指导员姓名。"
    return errors


def make_credit_code(first17: str) -> str:
    """A valid code from its first 17 characters (demo data and tests)."""
    return first17 + credit_code_check_char(first17)
