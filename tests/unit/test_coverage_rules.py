"""Coverage rules against hand-computed examples: coverage, gaps, 应建未建, the credit code,
the consistency checks, the figures' arithmetic and the chart's geometry."""

from __future__ import annotations

from datetime import date

import pytest

from domain.coverage.chart import BASE, PLOT, chart
from domain.coverage.figures import CoverageFigures, percent, roll_up_zones
from domain.coverage.history import HistoryPoint, add_months, month_start
from domain.coverage.orgs import parse_org
from domain.coverage.rules import (
    OrgFacts,
    consistency_errors,
    credit_code_error,
    is_gap,
    make_credit_code,
    org_covered,
    should_build,
    work_covered,
)


@pytest.mark.parametrize(
    ("mode", "instructor", "org", "work", "gap"),
    [
        ("cov_own", "", True, True, False),
        ("cov_joint", "", True, True, False),
        ("cov_delegated", "", True, True, False),
        ("cov_association", "", True, True, False),
        ("cov_chain", "", True, True, False),
        ("cov_none", "王敏", False, True, False),  # an instructor alone is work coverage
        ("cov_none", "  ", False, False, True),  # blanks are no instructor
        ("cov_none", "", False, False, True),
    ],
)
def test_coverage_kinds(mode: str, instructor: str, org: bool, work: bool, gap: bool) -> None:
    assert org_covered(mode) is org
    assert work_covered(mode, instructor) is work
    assert is_gap(mode, instructor) is gap


@pytest.mark.parametrize(
    ("mode", "members", "expected"),
    [
        ("cov_none", 3, True),
        ("cov_none", 2, False),
        ("cov_chain", 5, True),  # covered through the chain, but could build its own
        ("cov_delegated", 3, True),
        ("cov_own", 9, False),
        ("cov_joint", 4, False),
    ],
)
def test_should_build(mode: str, members: int, expected: bool) -> None:
    assert should_build(mode, members) is expected


def test_credit_code_checks() -> None:
    # A published example code (GB 32100-2015 check character).
    assert credit_code_error("91350100M000100Y43") is None
    assert credit_code_error("91350100M000100Y44") == "统一社会信用代码校验位不正确，请核对。"
    assert credit_code_error("9135010") == "统一社会信用代码应为18位数字或大写字母。"
    assert credit_code_error("91350100m000100y43") is not None  # lowercase is not accepted as is
    assert "不允许的字母" in (credit_code_error("91350100M000100I43") or "")
    code = make_credit_code("91110105MA0500001")
    assert len(code) == 18 and credit_code_error(code) is None


def facts(**over: object) -> OrgFacts:
    base: dict[str, object] = {
        "mode": "cov_none",
        "party_org_name": "",
        "employees": 10,
        "party_members": 1,
        "instructor_name": "",
        "instructor_phone": "",
    }
    base.update(over)
    return OrgFacts(**base)  # type: ignore[arg-type]


def test_consistency_rules() -> None:
    assert consistency_errors(facts()) == {}
    assert consistency_errors(facts(mode="cov_joint")) == {
        "party_org_name": "单独建立或联合建立党组织的，请填写党组织名称。"
    }
    assert (
        consistency_errors(facts(party_members=11))["party_members"] == "党员人数不能多于从业人员。"
    )
    # No employee count yet (0): members alone are accepted.
    assert consistency_errors(facts(employees=0, party_members=5)) == {}
    own_two = consistency_errors(facts(mode="cov_own", party_org_name="支部", party_members=2))
    assert own_two == {"coverage_mode": "党员不足3名，不能单独建立党组织，可选择联合建立。"}
    assert "instructor_name" in consistency_errors(facts(instructor_phone="139"))


def test_parse_org_form_errors_and_values() -> None:
    data, errors = parse_org(
        {
            "name": "",
            "credit_code": "abc",
            "coverage_mode": "cov_own",
            "employees": "-1",
            "party_members": "x",
            "carrier_id": "99",
        },
        carrier_ids={1},
        unit_ids=set(),
    )
    assert data is None
    assert errors["name"] == "请填写名称。"
    assert errors["credit_code"] == "统一社会信用代码应为18位数字或大写字母。"
    assert errors["employees"] == "从业人员不能为负数。"
    assert errors["party_members"] == "党员人数须为整数。"
    assert errors["carrier_id"] == "所在载体须从本街道的载体中选择。"
    assert errors["party_org_name"]  # own organisation without its name
    code = make_credit_code("91110105MA0500001")
    data, errors = parse_org(
        {
            "name": " 云启 ",
            "credit_code": code.lower(),
            "coverage_mode": "cov_none",
            "employees": "20",
            "party_members": "3",
            "carrier_id": "1",
        },
        carrier_ids={1},
        unit_ids=set(),
    )
    assert errors == {} and data is not None
    assert (data.name, data.credit_code, data.carrier_id, data.category) == (
        "云启",
        code,
        1,
        "org_enterprise",
    )
    _, errors = parse_org(
        {"name": "x", "coverage_mode": "cov_none"}, set(), set(), require_code=True
    )
    assert errors == {"credit_code": "请填写统一社会信用代码。"}


def test_figures_arithmetic_and_zone_roll_up() -> None:
    # Park 1 with zones 2 and 3; zone 2: 4 organisations, 2 org-covered, 3 work-covered.
    zone2 = CoverageFigures.of(4, 3, 9, 2, 3, 1)
    zone3 = CoverageFigures.of(2, 1, 1, 0, 1, 0)
    park = CoverageFigures.of(1, 1, 2, 1, 1, 0)
    out = roll_up_zones({1: park, 2: zone2, 3: zone3}, [(1, None), (2, 1), (3, 1)])
    assert out[2] == zone2
    assert out[1].organisations == 7 and out[1].org_covered == 3 and out[1].work_covered == 5
    assert out[1].gaps == 2 and out[1].party_members == 12 and out[1].should_build == 1
    assert out[1].org_rate == pytest.approx(3 / 7) and out[1].work_rate == pytest.approx(5 / 7)
    empty = CoverageFigures.of(0, 0, 0, 0, 0)
    assert empty.org_rate is None and empty.work_rate is None and empty.gaps == 0
    assert percent(None) == "—" and percent(2 / 3) == "66.7%" and percent(1.0) == "100.0%"


def test_months() -> None:
    assert month_start(date(2026, 3, 17)) == date(2026, 3, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 11, 1), 13) == date(2027, 12, 1)


def test_chart_geometry() -> None:
    points = [
        HistoryPoint(date(2025, 12, 1), CoverageFigures.of(10, 5, 20, 5, 6)),
        HistoryPoint(date(2026, 1, 1), CoverageFigures.of(0, 0, 0, 0, 0)),
        HistoryPoint(date(2026, 2, 1), CoverageFigures.of(10, 5, 20, 8, 10), live=True),
    ]
    c = chart(points)
    assert [b.label for b in c.bars] == ["25/12", "26/1", "2月"]
    assert c.bars[0].height == pytest.approx(0.6 * PLOT, abs=0.1)
    assert c.bars[0].y == pytest.approx(BASE - 0.6 * PLOT, abs=0.1)
    assert c.bars[1].height == 0 and c.bars[1].value == ""  # nothing to measure that month
    assert c.bars[2].height == pytest.approx(PLOT) and c.bars[2].live
    assert len(c.dots) == 2  # the empty month has no organisation-coverage point
    assert "组织覆盖率 80.0%" in c.bars[2].title
