"""Pure rules: unit fields, settings ranges, passwords, labels, CSRF tokens, the org tree."""

from types import SimpleNamespace

import pytest

from domain.enums import UnitKind, UnitType
from domain.labels import label, parse_label
from domain.passwords import hash_password, password_problem, verify_password
from domain.services.orgs import tree_order
from domain.services.street_settings import SPECS, check_settings
from domain.services.unit_import import check_headers
from domain.services.units import OrgIndex, check_unit_fields
from web.security import csrf_token_valid, make_csrf_token

ORGS = OrgIndex(
    streets={3: "新华街道", 7: "长安街道"},
    communities={4: ("文化里社区", 3), 8: ("西苑社区", 7)},
)
GOOD = {
    "name": "滨江市第一人民医院",
    "kind": "stationed",
    "unit_type": "public_institution",
    "street_id": "3",
    "community_id": "4",
    "contact_phone": "010-1234 5678",
    "party_members": "120",
}


def test_valid_unit_fields() -> None:
    fields, errors = check_unit_fields(GOOD, ORGS)
    assert errors == {}
    assert fields is not None
    assert fields.kind is UnitKind.STATIONED and fields.unit_type is UnitType.PUBLIC_INSTITUTION
    assert fields.street_id == 3 and fields.community_id == 4 and fields.party_members == 120


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "长" * 121}, "name"),
        ({"kind": "bank"}, "kind"),
        ({"unit_type": ""}, "unit_type"),
        ({"street_id": "99"}, "street_id"),
        ({"community_id": "8"}, "community_id"),  # a community of another street
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"party_members": "-3"}, "party_members"),
        ({"kind": "community", "community_id": ""}, "community_id"),
    ],
)
def test_invalid_unit_fields_have_chinese_messages(change: dict[str, str], field: str) -> None:
    fields, errors = check_unit_fields({**GOOD, **change}, ORGS)
    assert fields is None
    assert field in errors
    assert any("\u4e00" <= ch <= "\u9fff" for ch in errors[field])


def test_import_rows_use_names_and_labels() -> None:
    raw = {
        "name": "云帆网络",
        "kind": "驻区单位",
        "unit_type": "非公企业",
        "street": "长安街道",
        "community": "西苑社区",
    }
    fields, errors = check_unit_fields(raw, ORGS, by_name=True)
    assert errors == {}
    assert fields is not None and fields.street_id == 7 and fields.community_id == 8


def test_import_headers_required() -> None:
    assert check_headers(["单位名称", "单位类别", "单位性质", "所属街道"]) == []
    problems = check_headers(["单位名称", "地址"])
    assert problems and "单位类别" in problems[0].message


def test_settings_ranges() -> None:
    raw = {s.key: str(s.default) for s in SPECS}
    values, errors = check_settings(raw)
    assert errors == {} and values["notice_days"] == 3
    values, errors = check_settings({**raw, "quorum_percent": "0", "notice_days": "三"})
    assert set(errors) == {"quorum_percent", "notice_days"}


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short1", False),
        ("12345678", False),
        ("abcdefgh", False),
        ("secretary", False),
        ("gongjian-2026", True),
    ],
)
def test_password_rules(password: str, ok: bool) -> None:
    assert (password_problem(password, "secretary") is None) is ok


def test_password_hash_roundtrip() -> None:
    h = hash_password("gongjian-2026")
    assert verify_password(h, "gongjian-2026")
    assert not verify_password(h, "gongjian-2027")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_labels() -> None:
    assert label(UnitKind.DEPARTMENT) == "职能部门（条）"
    assert label("private_firm") == "非公企业"
    assert label("unknown") == "unknown"
    assert parse_label(UnitType, "楼宇/园区联合党委") is UnitType.JOINT_COMMITTEE
    assert parse_label(UnitType, "state_firm") is UnitType.STATE_FIRM
    assert parse_label(UnitType, "银行") is None


def test_csrf_token_bound_to_session() -> None:
    token = make_csrf_token("s" * 40, "session-a")
    assert csrf_token_valid("s" * 40, token, "session-a")
    assert not csrf_token_valid("s" * 40, token, "session-b")
    assert not csrf_token_valid("t" * 40, token, "session-a")
    assert not csrf_token_valid("s" * 40, "garbage", "session-a")


def test_tree_order_is_depth_first() -> None:
    def org(i: int, name: str, parent: int | None) -> SimpleNamespace:
        return SimpleNamespace(id=i, name=name, parent_id=parent)

    orgs = [
        org(1, "市", None),
        org(3, "乙街道", 2),
        org(2, "区", 1),
        org(4, "甲街道", 2),
        org(5, "社区", 4),
    ]
    order = [(d, o.name) for d, o in tree_order(orgs)]  # type: ignore[arg-type]
    assert order == [(0, "市"), (1, "区"), (2, "乙街道"), (2, "甲街道"), (3, "社区")]
