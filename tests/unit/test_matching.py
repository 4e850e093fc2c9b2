"""Matching needs and resources: the obvious match ranks first, and says why."""

from __future__ import annotations

from datetime import date

from domain.sharing.matching import (
    Match,
    NeedView,
    ResourceView,
    bigrams,
    dice,
    score,
    split_tags,
    wanted_window,
)

LECTURE = NeedView(
    category="为老服务",
    title="社区老年人健康讲座需要场地",
    description="每月一次老年人健康知识讲座，约60人参加，需要有投影的多功能厅。",
    tags=split_tags("健康，为老"),
)
HALL = ResourceView(
    category="活动场地",
    kind="venue",
    title="医院多功能厅",
    description="可容纳80人，配投影，适合健康讲座和培训。",
    tags=split_tags("健康、讲座"),
    bookable=True,
)
FUNDS = ResourceView(
    category="资金支持",
    kind="funds",
    title="年度共建资金",
    description="支持困难群众帮扶项目。",
    tags=split_tags("帮扶"),
)
WAREHOUSE = ResourceView(
    category="法律服务",
    kind="venue",
    title="律所小会议室",
    description="法律咨询接待。",
    tags=split_tags("法律"),
)


def rank(need: NeedView, *resources: ResourceView) -> list[str]:
    scored = sorted(resources, key=lambda r: -score(need, r).score)
    return [r.title for r in scored]


def test_the_obvious_match_ranks_first() -> None:
    assert rank(LECTURE, FUNDS, WAREHOUSE, HALL)[0] == "医院多功能厅"
    hall, funds, wrong = score(LECTURE, HALL), score(LECTURE, FUNDS), score(LECTURE, WAREHOUSE)
    assert hall.score > wrong.score > funds.score == 0


def test_reasons_say_why() -> None:
    match = score(LECTURE, HALL, free_slots=4)
    assert match.reasons[0] == "类别相符"
    assert "标签：健康" in match.reasons
    assert "文字相近" in match.reasons
    assert "时间可用（4 个空闲时段）" in match.reasons
    assert match.score > score(LECTURE, HALL).score


def test_withdrawn_or_fulfilled_resources_score_nothing() -> None:
    for state in ("unlisted", "fulfilled", "pending_vetting"):
        gone = ResourceView(**{**HALL.__dict__, "state": state})
        assert score(LECTURE, gone) == Match(0)


def test_free_slots_alone_do_not_make_a_suggestion() -> None:
    unrelated = ResourceView(category="资金支持", kind="funds", title="奖学金", bookable=True)
    assert score(LECTURE, unrelated, free_slots=10).score == 0


def test_a_venue_in_a_mapped_kind_gets_half_the_category_weight() -> None:
    need = NeedView(category="文化活动", title="春节联欢会")
    venue = ResourceView(category="其他", kind="venue", title="礼堂")
    match = score(need, venue)
    assert match.reasons == ("类型相关",)
    assert 0 < match.score < score(need, ResourceView("文化体育", "venue", "礼堂")).score


def test_bigrams_on_chinese() -> None:
    assert bigrams("党员活动室") == {"党员", "员活", "活动", "动室"}
    # Punctuation and spaces break runs; common words carry nothing; full-width folds.
    assert bigrams("健康，讲座") == {"健康", "讲座"}
    assert "社区" not in bigrams("社区讲座")
    assert bigrams("ＡＢ c") == {"ab", "c"}
    assert dice(bigrams("党员活动室"), bigrams("党员活动室")) == 1.0
    assert dice(bigrams("党员活动室"), bigrams("资金")) == 0.0
    assert dice(bigrams("健康讲座"), bigrams("健康知识讲座")) > dice(
        bigrams("健康讲座"), bigrams("法律咨询")
    )
    assert dice([], ["a"]) == 0.0


def test_wanted_window_covers_whole_beijing_days() -> None:
    need = NeedView(
        category="其他", title="x", wanted_from=date(2099, 3, 1), wanted_to=date(2099, 3, 2)
    )
    start, end = wanted_window(need, date(2099, 1, 1))
    assert (start.hour, end.hour) == (16, 16)  # Beijing midnight in UTC
    assert (end - start).days == 2
