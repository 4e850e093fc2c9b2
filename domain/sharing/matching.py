"""Matching suggestions between the needs and resources lists (双向匹配推荐).

For a need: the listed resources of the same street that could serve it, ranked; for a
resource: the listed needs it could serve. `score` is pure (no I/O) and explains itself:
every point it gives comes with a reason the user sees (类别相符, 标签：党建, 文字相近,
时间可用). Weights, out of 100:

- category affinity 35: the categories are chosen from fixed lists by the poster, so they
  are the most deliberate signal; a resource whose category is not in the need's map but
  whose kind is (a 场地 venue filed under 文化体育 for a 场地设施 need) gets half.
- shared tags 25 (15 for one tag, 25 for two or more): tags are free words, fewer and
  noisier than categories, but a shared tag (党建, 健康) is a strong hint of topic.
- text similarity 30: Dice overlap of character bigrams of title and description (Chinese
  has no spaces, so bigrams are the unit that works without a segmenter); scaled so that
  a Dice of 0.3 — already a close paraphrase — earns the full 30.
- availability 10: a bookable resource with free slots inside the need's wanted window.
  Only a bonus: it never makes an unrelated resource a suggestion on its own.

Only listed items are candidates (withdrawn, fulfilled and pending ones never appear).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from domain.enums import ListingState, ResourceKind
from domain.errors import NotFound, PermissionDenied
from domain.models.base import utcnow
from domain.models.sharing import Booking, Need, Resource, ResourceSlot
from domain.permissions import Actor, can_view_directory, can_view_street
from domain.sharing.booking import BEIJING, LIVE_STATES
from domain.uow import UnitOfWork

WEIGHT_CATEGORY = 35
WEIGHT_TAGS = 25
WEIGHT_ONE_TAG = 15
WEIGHT_TEXT = 30
WEIGHT_AVAILABILITY = 10
FULL_TEXT_DICE = 0.3  # a Dice of this much earns the whole text weight
MIN_TEXT_DICE = 0.06  # below this the overlap is chance (two common bigrams)
MAX_CANDIDATES = 500
DEFAULT_WINDOW_DAYS = 30  # a need with no wanted dates: the coming month
MAX_FUTURE_SLOTS = 2000

# Which resource categories (and kinds) serve a need category. Small and explicit on
# purpose: the street can read it and argue with it.
AFFINITY: dict[str, tuple[frozenset[str], frozenset[ResourceKind]]] = {
    "为老服务": (
        frozenset({"志愿服务", "医疗健康", "活动场地", "文化体育"}),
        frozenset({ResourceKind.VOLUNTEERS, ResourceKind.SERVICE}),
    ),
    "青少年服务": (
        frozenset({"教育培训", "志愿服务", "文化体育", "活动场地"}),
        frozenset({ResourceKind.VOLUNTEERS, ResourceKind.EXPERTISE}),
    ),
    "环境整治": (
        frozenset({"志愿服务", "设施设备", "资金支持"}),
        frozenset({ResourceKind.VOLUNTEERS, ResourceKind.EQUIPMENT}),
    ),
    "文化活动": (
        frozenset({"文化体育", "活动场地", "设施设备"}),
        frozenset({ResourceKind.VENUE, ResourceKind.EQUIPMENT}),
    ),
    "医疗健康": (
        frozenset({"医疗健康", "专业技术"}),
        frozenset({ResourceKind.EXPERTISE, ResourceKind.SERVICE}),
    ),
    "就业帮扶": (
        frozenset({"教育培训", "专业技术"}),
        frozenset({ResourceKind.EXPERTISE}),
    ),
    "困难帮扶": (
        frozenset({"资金支持", "志愿服务", "法律服务"}),
        frozenset({ResourceKind.FUNDS, ResourceKind.VOLUNTEERS}),
    ),
    "场地设施": (
        frozenset({"活动场地", "设施设备"}),
        frozenset({ResourceKind.VENUE, ResourceKind.EQUIPMENT}),
    ),
    "平安建设": (
        frozenset({"志愿服务", "法律服务", "设施设备"}),
        frozenset({ResourceKind.VOLUNTEERS}),
    ),
    "党建共建": (
        frozenset({"活动场地", "教育培训"}),
        frozenset({ResourceKind.VENUE, ResourceKind.EXPERTISE}),
    ),
}
# Words on nearly every listing: sharing them says nothing.
STOP_BIGRAMS = frozenset({"社区", "需要", "提供", "可以", "开展", "进行", "我们", "单位", "居民"})
# Words a need uses to say it wants a place: then any venue is in the right category.
VENUE_WORDS = ("场地", "场所", "会议室", "活动室", "多功能厅", "礼堂")
_SEPARATORS = re.compile(r"[\s\W_]+")


# ---- pure scoring -----------------------------------------------------------------------


@dataclass(frozen=True)
class NeedView:
    category: str
    title: str
    description: str = ""
    tags: frozenset[str] = frozenset()
    wanted_from: date | None = None
    wanted_to: date | None = None


@dataclass(frozen=True)
class ResourceView:
    category: str
    kind: str
    title: str
    description: str = ""
    tags: frozenset[str] = frozenset()
    state: str = ListingState.LISTED.value
    bookable: bool = False


@dataclass(frozen=True)
class Match:
    score: int  # 0..100
    reasons: tuple[str, ...] = ()


def split_tags(raw: str) -> frozenset[str]:
    words = raw.replace("，", ",").replace("、", ",").split(",")
    return frozenset(w.strip().lower() for w in words if w.strip())


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of each run of letters/digits/ideographs (punctuation and spaces
    break runs; a one-character run contributes itself, so 党 alone still counts)."""
    grams: set[str] = set()
    for run in _SEPARATORS.split(unicodedata.normalize("NFKC", text).lower()):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(grams - STOP_BIGRAMS)


def dice(a: Iterable[str], b: Iterable[str]) -> float:
    left, right = set(a), set(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))


def _category_points(need: NeedView, resource: ResourceView) -> tuple[float, str | None]:
    categories, kinds = AFFINITY.get(need.category, (frozenset(), frozenset()))
    if resource.category in categories or (
        need.category == resource.category and need.category != "其他"
    ):
        return 1.0, "类别相符"
    wants_venue = any(w in need.title or w in need.description for w in VENUE_WORDS)
    if resource.kind == ResourceKind.VENUE and wants_venue:
        return 1.0, "类别相符（需要场地）"
    if resource.kind in kinds:
        return 0.5, "类型相关"
    return 0.0, None


def score(need: NeedView, resource: ResourceView, free_slots: int | None = None) -> Match:
    """How well `resource` serves `need`, with the reasons. `free_slots`: the resource's
    free bookable slots inside the need's wanted window (None when unknown)."""
    if resource.state != ListingState.LISTED.value:
        return Match(0)
    points = 0.0
    reasons: list[str] = []
    affinity, why = _category_points(need, resource)
    if why:
        points += WEIGHT_CATEGORY * affinity
        reasons.append(why)
    shared = sorted(need.tags & resource.tags)
    if shared:
        points += WEIGHT_TAGS if len(shared) > 1 else WEIGHT_ONE_TAG
        reasons.append("标签：" + "、".join(shared))
    similarity = dice(
        bigrams(f"{need.title} {need.description}"),
        bigrams(f"{resource.title} {resource.description}"),
    )
    if similarity >= MIN_TEXT_DICE:
        points += WEIGHT_TEXT * min(1.0, similarity / FULL_TEXT_DICE)
        reasons.append("文字相近")
    if points == 0:
        return Match(0)
    if resource.bookable and free_slots:
        points += WEIGHT_AVAILABILITY
        reasons.append(f"时间可用（{free_slots} 个空闲时段）")
    return Match(min(100, round(points)), tuple(reasons))


def need_view(need: Need) -> NeedView:
    return NeedView(
        category=need.category,
        title=need.title,
        description=need.description,
        tags=split_tags(need.tags),
        wanted_from=need.wanted_from,
        wanted_to=need.wanted_to,
    )


def resource_view(resource: Resource) -> ResourceView:
    return ResourceView(
        category=resource.category,
        kind=resource.kind,
        title=resource.title,
        description=" ".join(p for p in (resource.description, resource.skills) if p),
        tags=split_tags(resource.tags),
        state=resource.state,
        bookable=resource.bookable,
    )


def wanted_window(need: NeedView, today: date) -> tuple[datetime, datetime]:
    """The need's wanted dates as UTC instants (whole Beijing days); without dates, the
    coming month; never earlier than now."""
    first = max(need.wanted_from or today, today)
    last = need.wanted_to or (first + timedelta(days=DEFAULT_WINDOW_DAYS))
    start = datetime.combine(first, time(0), BEIJING).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), BEIJING).astimezone(UTC)
    return max(start, utcnow()), end


# ---- queries ----------------------------------------------------------------------------


@dataclass
class Suggestion:
    item: Any  # Need or Resource, with its unit loaded
    match: Match
    which: str  # "need" or "resource": the kind of the suggested item

    @property
    def link(self) -> str:
        return f"/{self.which}s/{self.item.id}"

    @property
    def unit_name(self) -> str:
        unit = self.item.poster_unit if self.which == "need" else self.item.unit
        return str(unit.name)


@dataclass
class Suggestions:
    which: str  # the kind of the suggested items
    items: list[Suggestion] = field(default_factory=list)


def _free_slots() -> Any:
    """Slots with no live booking (requested or approved)."""
    live = select(Booking.id).where(
        Booking.slot_id == ResourceSlot.id, Booking.state.in_(LIVE_STATES)
    )
    return ~live.exists()


def _require_reader(actor: Actor, street_id: int) -> None:
    if not (can_view_directory(actor) and can_view_street(actor, street_id)):
        raise PermissionDenied("您无权查看该街道的清单。")


def _rank(pairs: Iterable[tuple[Any, Match]], which: str, limit: int) -> Suggestions:
    ranked = sorted(
        ((item, m) for item, m in pairs if m.score > 0),
        key=lambda pair: (-pair[1].score, -pair[0].id),
    )
    return Suggestions(which, [Suggestion(item, m, which) for item, m in ranked[:limit]])


async def suggest_resources(
    uow: UnitOfWork, actor: Actor, need_id: int, limit: int = 8
) -> Suggestions:
    """Listed resources of the need's street that could serve it, best first (4 queries)."""
    need = await uow.session.get(Need, need_id)
    if need is None:
        raise NotFound("该需求不存在。")
    _require_reader(actor, need.street_id)
    if need.state != ListingState.LISTED:
        return Suggestions("resource")
    candidates = list(
        await uow.session.scalars(
            select(Resource)
            .where(Resource.street_id == need.street_id, Resource.state == ListingState.LISTED)
            .options(selectinload(Resource.unit))
            .order_by(Resource.id.desc())
            .limit(MAX_CANDIDATES)
        )
    )
    view = need_view(need)
    start, end = wanted_window(view, utcnow().astimezone(BEIJING).date())
    bookable = [r.id for r in candidates if r.bookable]
    counts: Mapping[int, int] = {}
    if bookable and start < end:
        rows = await uow.session.execute(
            select(ResourceSlot.resource_id, func.count())
            .where(
                ResourceSlot.resource_id.in_(bookable),
                and_(ResourceSlot.starts_at >= start, ResourceSlot.starts_at < end),
                _free_slots(),
            )
            .group_by(ResourceSlot.resource_id)
        )
        counts = {rid: int(n) for rid, n in rows}
    pairs = [(r, score(view, resource_view(r), counts.get(r.id))) for r in candidates]
    return _rank(pairs, "resource", limit)


async def suggest_needs(
    uow: UnitOfWork, actor: Actor, resource_id: int, limit: int = 8
) -> Suggestions:
    """Listed needs of the resource's street it could serve, best first (4 queries)."""
    resource = await uow.session.get(Resource, resource_id)
    if resource is None:
        raise NotFound("该资源不存在。")
    _require_reader(actor, resource.street_id)
    if resource.state != ListingState.LISTED:
        return Suggestions("need")
    candidates = list(
        await uow.session.scalars(
            select(Need)
            .where(Need.street_id == resource.street_id, Need.state == ListingState.LISTED)
            .options(selectinload(Need.poster_unit))
            .order_by(Need.id.desc())
            .limit(MAX_CANDIDATES)
        )
    )
    starts: list[datetime] = []
    if resource.bookable and candidates:
        # One read of the resource's free future slots; each need counts those in its window.
        starts = list(
            await uow.session.scalars(
                select(ResourceSlot.starts_at)
                .where(
                    ResourceSlot.resource_id == resource.id,
                    ResourceSlot.starts_at > utcnow(),
                    _free_slots(),
                )
                .order_by(ResourceSlot.starts_at)
                .limit(MAX_FUTURE_SLOTS)
            )
        )
    today = utcnow().astimezone(BEIJING).date()
    offered = resource_view(resource)
    pairs = []
    for need in candidates:
        view = need_view(need)
        free: int | None = None
        if starts:
            start, end = wanted_window(view, today)
            free = sum(1 for s in starts if start <= _aware(s) < end)
        pairs.append((need, score(view, offered, free)))
    return _rank(pairs, "need", limit)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def suggest_for(uow: UnitOfWork, actor: Actor, which: str, item_id: int) -> Suggestions:
    """Suggestions for a detail page: resources for a need, needs for a resource."""
    if which == "need":
        return await suggest_resources(uow, actor, item_id)
    return await suggest_needs(uow, actor, item_id)
