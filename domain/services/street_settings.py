"""Local rules per street. Cities differ, so these are data with defaults, never constants.

Later capabilities read them through `get_settings`; each entry says its
range so that the form can validate it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from domain.enums import OrgLevel
from domain.errors import NotFound, ValidationFailed
from domain.models import Organization, StreetSetting
from domain.models.base import utcnow
from domain.parsing import is_row_id
from domain.permissions import Actor, can_edit_street_settings, can_view_street, require
from domain.topics import street_topic
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    default: int
    minimum: int
    maximum: int
    unit: str
    group: str


SCORE = "述职评议考核"

SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("meetings_per_year", "联席会议例会次数", 4, 1, 24, "次/年", "联席会议"),
    SettingSpec("topic_call_days", "议题征集提前天数", 7, 1, 60, "天", "联席会议"),
    SettingSpec("notice_days", "会议通知提前天数", 3, 0, 30, "天", "联席会议"),
    SettingSpec("quorum_percent", "法定到会比例（超过）", 50, 1, 100, "%", "联席会议"),
    SettingSpec("task_limit_days", "一般交办时限", 5, 1, 90, "工作日", "交办督办"),
    SettingSpec("handoff_limit_days", "部门下派社区时限", 5, 1, 90, "工作日", "交办督办"),
    SettingSpec("hotline_limit_days", "12345 工单办理时限", 3, 1, 90, "工作日", "交办督办"),
    SettingSpec("whistle_report_minutes", "吹哨报到时限", 30, 5, 1440, "分钟", "交办督办"),
    SettingSpec("whistle_limit_hours", "吹哨处置时限", 24, 1, 720, "小时", "交办督办"),
    SettingSpec("accept_limit_hours", "签收时限", 24, 1, 168, "小时", "交办督办"),
    SettingSpec("blue_notice_percent", "蓝色督办（剩余时限）", 30, 5, 90, "%", "交办督办"),
    SettingSpec("lag_percent", "黄色督办（用时超出进度）", 50, 10, 90, "%", "交办督办"),
    SettingSpec("bulletin_after_days", "逾期后通报", 3, 1, 30, "工作日", "交办督办"),
    SettingSpec("activity_points", "参加活动积分", 2, 0, 100, "分/次", "活动与积分"),
    SettingSpec("service_hour_points", "志愿服务积分", 1, 0, 100, "分/小时", "活动与积分"),
    SettingSpec("checkin_open_minutes", "扫码签到提前开放", 30, 0, 240, "分钟", "活动与积分"),
    # 述职评议考核: weights of a unit's scorecard (points out of 100) and the targets that
    # earn full marks; a department's task figures have their own weights.
    SettingSpec("score_w_attendance", "会议出勤（权重）", 20, 0, 100, "分", SCORE),
    SettingSpec("score_absence_deduct", "无故缺席每次扣分", 5, 0, 50, "分", SCORE),
    SettingSpec("score_w_topics", "提出议题（权重）", 10, 0, 100, "分", SCORE),
    SettingSpec("score_topics_target", "提出议题满分标准", 2, 1, 50, "条/年", SCORE),
    SettingSpec("score_w_decisions", "议定事项按期完成（权重）", 15, 0, 100, "分", SCORE),
    SettingSpec("score_w_resources", "资源提供与认领（权重）", 15, 0, 100, "分", SCORE),
    SettingSpec("score_resources_target", "资源提供与认领满分标准", 2, 1, 50, "项/年", SCORE),
    SettingSpec("score_w_projects", "共建项目完成（权重）", 10, 0, 100, "分", SCORE),
    SettingSpec("score_projects_target", "共建项目满分标准", 1, 1, 50, "个/年", SCORE),
    SettingSpec("score_w_activities", "主办与参加活动（权重）", 15, 0, 100, "分", SCORE),
    SettingSpec("score_activities_target", "活动满分标准", 4, 1, 100, "场/年", SCORE),
    SettingSpec("score_w_dual_report", "双报到与服务时长（权重）", 15, 0, 100, "分", SCORE),
    SettingSpec("score_hours_target", "人均服务时长满分标准", 10, 1, 200, "小时/年", SCORE),
    SettingSpec("score_w_accept", "按时签收（部门权重）", 25, 0, 100, "分", SCORE),
    SettingSpec("score_w_ontime", "按期办结（部门权重）", 35, 0, 100, "分", SCORE),
    SettingSpec("score_w_returns", "退回率低（部门权重）", 10, 0, 100, "分", SCORE),
    SettingSpec("score_w_rework", "一次通过（部门权重）", 10, 0, 100, "分", SCORE),
    SettingSpec("score_w_satisfaction", "满意度（部门权重）", 20, 0, 100, "分", SCORE),
    SettingSpec("grade_excellent", "评为“好”的分数线", 90, 1, 100, "分", SCORE),
    SettingSpec("grade_good", "评为“较好”的分数线", 75, 1, 100, "分", SCORE),
    SettingSpec("grade_pass", "评为“一般”的分数线", 60, 1, 100, "分", SCORE),
)
SPEC_BY_KEY = {s.key: s for s in SPECS}


async def _street(uow: UnitOfWork, street_id: int) -> Organization:
    street = await uow.session.get(Organization, street_id) if is_row_id(street_id) else None
    if street is None or street.level != OrgLevel.STREET:
        raise NotFound("街道不存在。")
    return street


async def get_settings(uow: UnitOfWork, street_id: int) -> dict[str, int]:
    """Effective settings of a street: stored overrides over defaults."""
    values = {s.key: s.default for s in SPECS}
    rows = await uow.session.scalars(
        select(StreetSetting).where(StreetSetting.street_id == street_id)
    )
    for row in rows:
        if row.key in SPEC_BY_KEY:
            values[row.key] = int(row.value)
    return values


async def read_settings(
    uow: UnitOfWork, actor: Actor, street_id: int
) -> tuple[Organization, dict[str, int]]:
    street = await _street(uow, street_id)
    require(can_view_street(actor, street_id))
    return street, await get_settings(uow, street_id)


def check_settings(raw: Mapping[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for spec in SPECS:
        text = raw.get(spec.key, "").strip()
        digits = text.removeprefix("-")
        if not digits.isdecimal():  # not isdigit(): '²' is a digit that int() refuses
            errors[spec.key] = f"请填写整数（{spec.minimum}–{spec.maximum}）。"
            continue
        # int() refuses very long digit strings; a dozen digits is out of every range already.
        value = int(text) if len(digits.lstrip("0")) <= 12 else spec.maximum + 1
        if not spec.minimum <= value <= spec.maximum:
            errors[spec.key] = f"须在 {spec.minimum}–{spec.maximum} {spec.unit}之间。"
            continue
        values[spec.key] = value
    return values, errors


async def update_settings(
    uow: UnitOfWork, actor: Actor, street_id: int, raw: Mapping[str, str]
) -> dict[str, int]:
    street = await _street(uow, street_id)
    require(can_edit_street_settings(actor, street_id))
    values, errors = check_settings(raw)
    if errors:
        raise ValidationFailed(errors)
    before = await get_settings(uow, street_id)
    stored = {
        r.key: r
        for r in await uow.session.scalars(
            select(StreetSetting).where(StreetSetting.street_id == street_id)
        )
    }
    for key, value in values.items():
        row = stored.get(key)
        if row is None:
            uow.session.add(StreetSetting(street_id=street_id, key=key, value=str(value)))
        elif row.value != str(value):
            row.value = str(value)
            row.updated_at = utcnow()
    changed = {k: v for k, v in values.items() if before.get(k) != v}
    if changed:
        uow.audit(
            "street.settings",
            "organization",
            street_id,
            f"修改 {street.name} 的本地规则",
            {k: before[k] for k in changed},
            changed,
        )
        uow.publish(street_topic(street_id), "street.settings_changed")
    return values
