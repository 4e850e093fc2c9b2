"""Bulk import of units from a spreadsheet: every row checked, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.errors import ValidationFailed
from domain.models import Unit
from domain.parsing import RowError, missing_headers
from domain.permissions import Actor, can_manage_units, require
from domain.services.units import UnitFields, _columns, _snap, check_unit_fields, org_index_for
from domain.topics import street_topic
from domain.uow import UnitOfWork

# Spreadsheet header → field. The first row of the file must carry these headers.
HEADERS: dict[str, str] = {
    "单位名称": "name",
    "单位类别": "kind",
    "单位性质": "unit_type",
    "所属街道": "street",
    "所属社区": "community",
    "地址": "address",
    "联系人": "contact_name",
    "联系电话": "contact_phone",
    "党员人数": "party_members",
}
REQUIRED_HEADERS = ("单位名称", "单位类别", "单位性质", "所属街道")
COLUMN_OF = {v: k for k, v in HEADERS.items()} | {
    "street_id": "所属街道",
    "community_id": "所属社区",
}
MAX_ROWS = 5000


@dataclass
class ImportResult:
    created: list[Unit] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0


def check_headers(headers: Sequence[str]) -> list[RowError]:
    return missing_headers(headers, REQUIRED_HEADERS)


async def import_units(
    uow: UnitOfWork, actor: Actor, headers: Sequence[str], rows: Sequence[Sequence[str]]
) -> ImportResult:
    """Validate every row; create the units only when no row has an error."""
    require(can_manage_units(actor))
    result = ImportResult(rows_read=len(rows))
    result.errors = check_headers(headers)
    if result.errors:
        return result
    if not rows:
        result.errors.append(RowError(2, "", "文件中没有数据行。"))
        return result
    if len(rows) > MAX_ROWS:
        result.errors.append(RowError(1, "", f"一次最多导入 {MAX_ROWS} 行，请拆分文件。"))
        return result

    orgs = await org_index_for(uow, actor)
    existing = {
        (name, street)
        for name, street in (await uow.session.execute(select(Unit.name, Unit.street_id))).all()
    }
    seen: dict[tuple[str, int], int] = {}
    valid: list[UnitFields] = []
    names = [h.strip() for h in headers]
    for offset, cells in enumerate(rows):
        row_no = offset + 2
        raw = {
            HEADERS[h]: (str(cells[i]) if i < len(cells) and cells[i] is not None else "").strip()
            for i, h in enumerate(names)
            if h in HEADERS
        }
        fields, errors = check_unit_fields(raw, orgs, by_name=True)
        for name, message in errors.items():
            result.errors.append(RowError(row_no, COLUMN_OF.get(name, name), message))
        if fields is None:
            continue
        key = (fields.name, fields.street_id)
        if key in existing:
            result.errors.append(RowError(row_no, "单位名称", "本街道已有同名单位。"))
        elif key in seen:
            result.errors.append(RowError(row_no, "单位名称", f"与第 {seen[key]} 行重复。"))
        else:
            seen[key] = row_no
            valid.append(fields)

    if result.errors:
        return result
    for fields in valid:
        unit = Unit(**_columns(fields))
        uow.session.add(unit)
        result.created.append(unit)
    try:
        await uow.flush()
    except IntegrityError:
        # Someone registered one of these names while the file was being checked.
        result.created = []
        result.errors.append(RowError(0, "单位名称", "导入期间有同名单位被登记，请重新上传。"))
        return result
    for unit in result.created:
        uow.audit("unit.import", "unit", unit.id, f"导入单位 {unit.name}", None, _snap(unit))
    for street_id in sorted({u.street_id for u in result.created}):
        uow.publish(street_topic(street_id), "street.units_changed", imported=len(result.created))
    return result


def raise_if_failed(result: ImportResult) -> None:
    if result.errors:
        raise ValidationFailed(
            {}, f"导入未执行：共有 {len(result.errors)} 处错误，请修正后重新上传。"
        )
