"""述职评议考核 and 调度通报: a secretary's yearly responsibility report, assembled from the
platform's records and edited before it is submitted; and the monthly bulletin a job drafts
from tasks, conference, resources and activities, which the street secretary reviews and
publishes. (Scorecards themselves are computed from the records, never stored.)"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, UTCDateTime, utcnow


class ResponsibilityReport(Base):
    """述职报告 of a street's or community's secretary for a year."""

    __tablename__ = "responsibility_reports"
    __table_args__ = (Index("uq_responsibility_reports_org_year", "org_id", "year", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The street or community whose secretary reports.
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default="report_draft")
    title: Mapped[str] = mapped_column(String(200), default="")
    # [{"key": ..., "title": ..., "body": ..., "facts": [...]}]: the assembled sections,
    # whose bodies the secretary edits; facts keep the figures they were drawn from.
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Bulletin(Base):
    """调度通报: one street's bulletin for one month."""

    __tablename__ = "monthly_bulletins"
    __table_args__ = (
        Index("uq_monthly_bulletins_street_month", "street_id", "month", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month reported on
    state: Mapped[str] = mapped_column(String(20), default="bulletin_draft")
    title: Mapped[str] = mapped_column(String(200))
    # [{"key": ..., "title": ..., "body": ..., "figures": {...}}], editable before publishing.
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
