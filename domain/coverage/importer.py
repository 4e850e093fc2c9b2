"""Importing organisations from a spreadsheet (registration or annual-report data): every
row checked, nothing saved unless every row is good; an organisation already registered in
the street under the same credit code is updated, any other created."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.coverage.access import require_write, street_or_404
from domain.coverage.carriers import publish_change
from domain.coverage.orgs import OrgInput, form_values, org_choices, parse_org
from domain.coverage.rules import normalise_code
from domain.enums import CoverageMode, OrgCategory
from domain.labels import label
from domain.models import EmergingOrg
from domain.models.base import utcnow
from domain.parsing import RowError, missing_headers
from domain.permissions import Actor
from domain.uow import UnitOfWork

# Spreadsheet header → organisation field, in the template's order.
HEADERS: dict[str, str] = {
    "名称": "name",
    "统一社会信用代码": "credit_code",
    "类别": "category",
    "所在载体": "carrier_id",
    "行业": "industry",
    "从业人员": "employees",
    "党员人数": "party_members",
    "覆盖方式": "coverage_mode",
    "党组织名称": "party_org_name",
    "党建指导员": "instructor_name",
    "联系电话": "instructor_phone",
}
REQUIRED_HEADERS = ("名称", "统一社会信用代码")
COLUMN_OF = {v: k for k, v in HEADERS.items()}
MAX_ROWS = 5000

CATEGORY_BY_LABEL = {label(c): c.value for c in OrgCategory}
MODE_BY_LABEL = {label(m): m.value for m in CoverageMode} | {
    "单独建立": CoverageMode.OWN.value,
    "单建": CoverageMode.OWN.value,
    "联合建立": CoverageMode.JOINT.value,
    "联建": CoverageMode.JOINT.value,
    "委托": CoverageMode.DELEGATED.value,
    "委托街道党组织": CoverageMode.DELEGATED.value,
    "委托社区党组织": CoverageMode.DELEGATED.value,
    "行业协会": CoverageMode.ASSOCIATION.value,
    "商会": CoverageMode.ASSOCIATION.value,
    "产业链": CoverageMode.CHAIN.value,
    "无": CoverageMode.NONE.value,
}


@dataclass
class ImportResult:
    created: list[EmergingOrg] = field(default_factory=list)
    updated: list[EmergingOrg] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0


def check_headers(headers: Sequence[str]) -> list[RowError]:
    return missing_headers(headers, REQUIRED_HEADERS)


async def import_orgs(
    uow: UnitOfWork,
    actor: Actor,
    street_id: int,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
) -> ImportResult:
    """Validate every row; write only when no row has an error. A column missing from the
    file leaves that field of an existing organisation as it was."""
    await street_or_404(uow, street_id)
    require_write(actor, street_id)
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

    choices = await org_choices(uow, street_id)
    carrier_by_name = {c.name: c.id for c in choices.carriers}
    carrier_ids = set(carrier_by_name.values())
    unit_ids = {u.id for u in choices.units}
    existing = {
        o.credit_code: o
        for o in await uow.session.scalars(
            select(EmergingOrg).where(
                EmergingOrg.street_id == street_id, EmergingOrg.credit_code.is_not(None)
            )
        )
    }
    names = [h.strip() for h in headers]
    seen: dict[str, int] = {}
    planned: list[tuple[EmergingOrg | None, OrgInput]] = []
    for offset, cells in enumerate(rows):
        row_no = offset + 2
        cell = {
            HEADERS[h]: (str(cells[i]) if i < len(cells) and cells[i] is not None else "").strip()
            for i, h in enumerate(names)
            if h in HEADERS
        }
        code = normalise_code(cell.get("credit_code", ""))
        current = existing.get(code) if code else None
        raw = form_values(current) if current is not None else {"category": "", "coverage_mode": ""}
        row_errors: dict[str, str] = {}
        for key, text in cell.items():
            if key == "category":
                raw[key] = CATEGORY_BY_LABEL.get(text, "") if text else OrgCategory.ENTERPRISE.value
                if text and text not in CATEGORY_BY_LABEL:
                    row_errors[key] = f"类别“{text}”无法识别，应为“企业”或“社会组织”。"
            elif key == "coverage_mode":
                raw[key] = MODE_BY_LABEL.get(text, "") if text else CoverageMode.NONE.value
                if text and text not in MODE_BY_LABEL:
                    row_errors[key] = f"覆盖方式“{text}”无法识别。"
            elif key == "carrier_id":
                raw[key] = str(carrier_by_name.get(text, "")) if text else ""
                if text and text not in carrier_by_name:
                    row_errors[key] = f"本街道没有名为“{text}”的载体。"
            else:
                raw[key] = text
        raw.setdefault("coverage_mode", CoverageMode.NONE.value)
        if not raw.get("coverage_mode") and "coverage_mode" not in row_errors:
            raw["coverage_mode"] = CoverageMode.NONE.value
        data, errors = parse_org(raw, carrier_ids, unit_ids, require_code=True)
        for key, message in {**errors, **row_errors}.items():
            result.errors.append(RowError(row_no, COLUMN_OF.get(key, key), message))
        if data is None or row_errors:
            continue
        assert data.credit_code is not None
        if data.credit_code in seen:
            result.errors.append(
                RowError(row_no, "统一社会信用代码", f"与第 {seen[data.credit_code]} 行重复。")
            )
            continue
        seen[data.credit_code] = row_no
        planned.append((current, data))

    if result.errors:
        return result
    now = utcnow()
    for current, data in planned:
        if current is None:
            org = EmergingOrg(street_id=street_id, source="import", **data.__dict__)
            uow.session.add(org)
            result.created.append(org)
        else:
            for key, value in data.__dict__.items():
                setattr(current, key, value)
            current.active = True
            current.updated_at = now
            result.updated.append(current)
    try:
        await uow.flush()
    except IntegrityError:
        # Someone registered one of these codes while the file was being checked.
        result.created, result.updated = [], []
        result.errors.append(
            RowError(0, "统一社会信用代码", "导入期间有相同代码的组织被登记，请重新上传。")
        )
        return result
    uow.audit(
        "emerging_org.import",
        "street",
        street_id,
        f"导入新兴领域组织：新增 {len(result.created)} 个，更新 {len(result.updated)} 个",
        None,
        {
            "created": [o.id for o in result.created],
            "updated": [o.id for o in result.updated],
        },
    )
    publish_change(uow, street_id, "import")
    return result
