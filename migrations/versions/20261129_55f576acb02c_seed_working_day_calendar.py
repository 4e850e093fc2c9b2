"""seed the working-day calendar from chinesecalendar

Revision ID: 55f576acb02c
Revises: 808a95c02b07
Create Date: 2026-11-29 14:05:00.000000

Stores, for every year the installed `chinesecalendar` package knows, the exceptions to
Monday–Friday: holidays on weekdays and make-up workdays (调休上班) on weekends. The
names and the extraction are a frozen copy of domain/tasks/calendar_seed.py (a
migration must not change when the application code does). Years already held are left
alone; later package releases are added by `gongjian calendar-sync`.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from importlib.metadata import version

import chinese_calendar  # type: ignore[import-untyped]
import sqlalchemy as sa
from alembic import op

revision: str = "55f576acb02c"
down_revision: str | None = "808a95c02b07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCE = "chinesecalendar"
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

calendar_years = sa.table(
    "calendar_years",
    sa.column("year", sa.Integer),
    sa.column("source", sa.String),
    sa.column("note", sa.String),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("updated_by_id", sa.Integer),
)
calendar_days = sa.table(
    "calendar_days",
    sa.column("day", sa.Date),
    sa.column("workday", sa.Boolean),
    sa.column("name", sa.String),
)


def _name(english: str) -> str:
    return HOLIDAY_NAMES.get(english, english)


def upgrade() -> None:
    holidays: dict[date, str] = chinese_calendar.holidays
    workdays: dict[date, str] = chinese_calendar.workdays
    known = set(range(min(holidays).year, max(holidays).year + 1))
    held = set(op.get_bind().scalars(sa.select(calendar_years.c.year)))
    years = sorted(known - held)
    if not years:
        return
    wanted = set(years)
    days = [
        {"day": d, "workday": False, "name": _name(n)}
        for d, n in holidays.items()
        if d.year in wanted and d.weekday() < 5
    ] + [
        {"day": d, "workday": True, "name": _name(n) + "调休上班"}
        for d, n in workdays.items()
        if d.year in wanted and d.weekday() >= 5
    ]
    now = datetime.now(UTC)
    note = f"由 {SOURCE} {version(SOURCE)} 导入"
    op.bulk_insert(
        calendar_years,
        [
            {"year": y, "source": SOURCE, "note": note, "updated_at": now, "updated_by_id": None}
            for y in years
        ],
    )
    op.bulk_insert(calendar_days, sorted(days, key=lambda r: r["day"]))


def downgrade() -> None:
    bind = op.get_bind()
    seeded = list(
        bind.scalars(sa.select(calendar_years.c.year).where(calendar_years.c.source == SOURCE))
    )
    for year in seeded:
        op.execute(
            calendar_days.delete().where(
                calendar_days.c.day.between(date(year, 1, 1), date(year, 12, 31))
            )
        )
    op.execute(calendar_years.delete().where(calendar_years.c.source == SOURCE))
