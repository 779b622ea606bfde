"""Free-text search as a condition on cases: how a query splits into words, the indexed
expression, and what every word must find (the queue's own tests search through the
queues; these ask the condition directly)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case
from caseapp.services.pages import search
from caseapp.services.pages.search import MAX_WORDS, case_text, search_words, text_matches
from tests.factories import case_row


def make(title: str, description: str) -> Case:
    case = case_row(title=title)
    case.description = description
    db.session.commit()
    return case


def found(q: str) -> set[str]:
    return set(db.session.scalars(sa.select(Case.title).where(text_matches(q))))


@pytest.fixture
def cases(app_ctx: Flask, demo_base: None) -> None:
    make("公交站点设置不合理", "早高峰公交车经常不停靠。")
    make("路灯不亮", "公交站旁边的路灯坏了一周。")
    make("Street_Light out", "Pole no. 7 is dark.")
    make("StreetXLight flickers", "Pole no. 9 blinks.")
    make("共享文件夹 C:\\公共 打不开", "报错。")
    make("100% 完成的工程又坏了", "井盖松动。")


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("", []),
        ("   ", []),
        ("公交站", ["公交站"]),
        ("  公交  路灯 ", ["公交", "路灯"]),
        ("公交　路灯", ["公交", "路灯"]),  # a full-width space
        ("a\tb\nc", ["a", "b", "c"]),
        ("1 2 3 4 5 6 7", ["1", "2", "3", "4", "5"]),  # at most MAX_WORDS
    ],
)
def test_search_words(q: str, words: list[str]) -> None:
    assert search_words(q) == words
    assert len(search_words(q)) <= MAX_WORDS


def test_case_text_is_the_indexed_expression_with_a_literal_space(app_ctx: Flask) -> None:
    compiled = sa.select(case_text()).compile(dialect=db.engine.dialect)
    assert compiled.params == {}  # a bound space would not match the index's expression
    assert "(cases.title || ' ') || cases.description" in str(compiled)


@pytest.mark.parametrize("q", ["", "  ", "　"])
def test_an_empty_query_matches_every_case(cases: None, q: str) -> None:
    assert len(found(q)) == 6


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("公交站", {"公交站点设置不合理", "路灯不亮"}),  # a title or a description
        ("设置不合理 不停靠", {"公交站点设置不合理"}),  # one word in each
        ("公交站 坏了一周", {"路灯不亮"}),  # every word must match
        ("公交站 地铁", set()),
        ("公交 一周", {"路灯不亮"}),  # two short words: the LIKE fallback
        ("street_light", {"Street_Light out"}),  # "_" is not a wildcard, any letter case
        ("_", {"Street_Light out"}),
        ("\\", {"共享文件夹 C:\\公共 打不开"}),  # a backslash is a literal too
        ("C:\\公共", {"共享文件夹 C:\\公共 打不开"}),
        ("0%", {"100% 完成的工程又坏了"}),
        ("o%", set()),
        ('pole" OR "dark', set()),  # quotes and OR are not query syntax
        ("NOT", set()),
        ("*", set()),
    ],
)
@pytest.mark.parametrize("common_at", [search.COMMON_MATCHES, 1], ids=["rare", "common"])
def test_every_word_must_be_found_as_written(
    cases: None, q: str, expected: set[str], common_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "common": any word the index finds at all is taken as common, and the cases are
    # checked for the words without the index (a position in the lowered text).
    monkeypatch.setattr(search, "COMMON_MATCHES", common_at)
    assert found(q) == expected


def test_a_common_query_is_not_looked_up_in_the_index(
    cases: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sql(q: str) -> str:
        return str(sa.select(Case.id).where(text_matches(q)).compile(dialect=db.engine.dialect))

    assert "bigram" in sql("公交站")
    monkeypatch.setattr(search, "COMMON_MATCHES", 2)  # 公交站 is in two cases
    assert "bigram" not in sql("公交站") and "lower" in sql("公交站")
    assert "bigram" in sql("设置不合理")  # in one


def test_words_after_the_fifth_are_ignored(cases: None) -> None:
    five = "公交站 路灯 一周 旁边 坏了"
    assert found(five) == {"路灯不亮"}
    assert found(five + " 地铁站") == {"路灯不亮"}
    assert found("地铁站 " + five) == set()
