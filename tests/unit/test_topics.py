import pytest

from domain.enums import Role
from domain.permissions import Actor, Grant
from domain.topics import MAX_TOPICS, Topic, allowed_without_lookup, parse_topic, parse_topics

SECRETARY = Actor(5, "secretary", "张秀兰", (Grant(Role.STREET_SECRETARY, 3, None, 3),))
DISTRICT = Actor(2, "district", "王建华", (Grant(Role.DISTRICT_VIEWER, 2),), frozenset({3, 7}))


@pytest.mark.parametrize("text", ["street:3", "user:12", "unit:9999"])
def test_valid_topics(text: str) -> None:
    topic = parse_topic(text)
    assert topic is not None and str(topic) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "street",
        "street:",
        "street:0",
        "street:-1",
        "street:3:x",
        "audit:1",
        "street:1e3",
        "Street:3",
    ],
)
def test_malformed_topics_are_refused(text: str) -> None:
    assert parse_topic(text) is None


def test_topic_lists() -> None:
    assert parse_topics(["street:3", "street:3", "user:5"]) == [
        Topic("street", 3),
        Topic("user", 5),
    ]
    assert parse_topics(["street:3", "bogus"]) is None
    assert parse_topics([f"street:{i}" for i in range(1, MAX_TOPICS + 2)]) is None


def test_user_topic_only_for_oneself() -> None:
    assert allowed_without_lookup(SECRETARY, Topic("user", 5)) is True
    assert allowed_without_lookup(SECRETARY, Topic("user", 6)) is False


def test_street_topic_follows_street_visibility() -> None:
    assert allowed_without_lookup(SECRETARY, Topic("street", 3)) is True
    assert allowed_without_lookup(SECRETARY, Topic("street", 7)) is False
    assert allowed_without_lookup(DISTRICT, Topic("street", 7)) is True
    assert allowed_without_lookup(DISTRICT, Topic("street", 8)) is False


def test_unit_topic_needs_the_database() -> None:
    assert allowed_without_lookup(SECRETARY, Topic("unit", 1)) is None


def test_admin_topic_only_for_admins() -> None:
    admin = Actor(1, "admin", "管理员", (Grant(Role.PLATFORM_ADMIN),))
    assert allowed_without_lookup(admin, Topic("admin", 1)) is True
    assert allowed_without_lookup(SECRETARY, Topic("admin", 1)) is False
    assert allowed_without_lookup(DISTRICT, Topic("admin", 1)) is False
