"""The fixed categories of the needs and resources lists (as printed at conference meetings)."""

from __future__ import annotations

NEED_CATEGORIES: tuple[str, ...] = (
    "为老服务",
    "青少年服务",
    "环境整治",
    "文化活动",
    "医疗健康",
    "就业帮扶",
    "困难帮扶",
    "场地设施",
    "平安建设",
    "党建共建",
    "其他",
)

RESOURCE_CATEGORIES: tuple[str, ...] = (
    "活动场地",
    "设施设备",
    "志愿服务",
    "专业技术",
    "资金支持",
    "医疗健康",
    "教育培训",
    "文化体育",
    "法律服务",
    "其他",
)
