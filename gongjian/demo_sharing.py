"""Demo entries of the three lists for 新华街道, posted and vetted through the real services:
the hospital's hall (bookable, with next weeks' slots), volunteers, and the communities'
needs — one still waiting for the street to vet it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import ResourceKind
from domain.models import Organization
from domain.models.base import utcnow
from domain.sharing import booking, listings
from domain.tasks.calendar import local_date
from gongjian.demo_tasks import _as

Factory = async_sessionmaker[AsyncSession]


async def seed_demo_sharing(factory: Factory) -> None:
    async with factory() as s:
        street = await s.scalar(select(Organization.id).where(Organization.name == "新华街道"))
    assert street is not None

    hall = await _as(
        factory, "liaison", listings.post_resource, street, ResourceKind.VENUE,
        {"title": "医院门诊楼三层党员活动室", "category": "活动场地",
         "description": "可举办讲座、主题党日和健康课堂，配投影仪和音响。",
         "capacity": "60", "address": "新华路 18 号门诊楼三层",
         "opening_hours": "工作日 9:00–17:00", "facilities": "投影仪，音响，桌椅 60 套",
         "availability": "工作日白天", "conditions": "提前 3 天申请；爱护设施",
         "tags": "党建，健康，讲座"},
    )  # fmt: skip
    doctors = await _as(
        factory, "liaison", listings.post_resource, street, ResourceKind.VOLUNTEERS,
        {"title": "党员医生义诊志愿队", "category": "医疗健康",
         "description": "每月一次进社区义诊，测血压血糖、健康咨询。",
         "volunteer_count": "12", "skills": "全科、心内科、护理",
         "availability": "每月第二个周六上午", "tags": "健康，为老"},
    )  # fmt: skip
    lecture = await _as(
        factory, "community", listings.post_need, street,
        {"title": "社区老年人健康讲座需要场地和医生", "category": "医疗健康",
         "description": "文化里社区 60 岁以上老人约 800 人，希望每季度举办一次健康讲座。",
         "beneficiaries": "社区老年人", "beneficiary_count": "120", "tags": "健康，为老"},
    )  # fmt: skip
    await _as(
        factory, "community", listings.post_need, street,
        {"title": "暑期青少年托管志愿者", "category": "青少年服务",
         "description": "暑假期间双职工家庭孩子看护，需要大学生或教师志愿者。",
         "beneficiaries": "双职工家庭子女", "beneficiary_count": "40", "tags": "青少年"},
    )  # fmt: skip
    for which, item in (("resource", hall), ("resource", doctors), ("need", lecture)):
        await _as(factory, "secretary", listings.vet, which, item.id, item.version, True)

    # Slots for the coming two weeks, weekday afternoons and mornings.
    start = local_date(utcnow()) + timedelta(days=1)
    await _as(
        factory, "liaison", booking.publish_slots, hall.id,
        {"date_from": start.isoformat(), "date_to": (start + timedelta(days=13)).isoformat(),
         "weekdays": "0,1,2,3,4", "start_time": "09:00", "end_time": "17:00",
         "slot_minutes": "120"},
    )  # fmt: skip
