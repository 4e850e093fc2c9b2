"""Reading the append-only audit log (admins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from domain.models import AuditEntry
from domain.permissions import Actor, can_administer, require
from domain.uow import UnitOfWork

CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


async def search_audit(
    uow: UnitOfWork, actor: Actor, flt: AuditFilter, limit: int = 50, offset: int = 0
) -> tuple[list[AuditEntry], int]:
    require(can_administer(actor))
    stmt = select(AuditEntry)
    if flt.actor.strip():
        stmt = stmt.where(AuditEntry.actor_name == flt.actor.strip())
    if flt.object_type.strip():
        stmt = stmt.where(AuditEntry.object_type == flt.object_type.strip())
    if flt.object_id.strip():
        stmt = stmt.where(AuditEntry.object_id == flt.object_id.strip())
    if flt.action.strip():
        stmt = stmt.where(AuditEntry.action.startswith(flt.action.strip(), autoescape=True))
    # Dates are calendar days in Beijing time, which is what the user means.
    if flt.date_from:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(flt.date_from, time.min, CHINA))
    if flt.date_to:
        end = datetime.combine(flt.date_to + timedelta(days=1), time.min, CHINA)
        stmt = stmt.where(AuditEntry.at < end)
    total = await uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = await uow.session.scalars(
        stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


async def object_types(uow: UnitOfWork) -> list[str]:
    return list(
        await uow.session.scalars(
            select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)
        )
    )
