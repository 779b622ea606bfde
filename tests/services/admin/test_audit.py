"""The admin audit log: values made plain for JSON, one row per change written in the
change's own transaction (none when nothing changed, none when it failed), and the
newest rows first."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import AuditLog, Department
from caseapp.models.enums import CaseStatus, Role
from caseapp.services.admin.audit import audited, recent, record, snapshot
from caseapp.services.errors import ValidationFailed
from tests.factories import department, user

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
FIELDS = ("code", "name_zh", "retired_at")


class Colour(enum.Enum):
    RED = "red"


def of_department(d: Department) -> dict[str, Any]:
    return snapshot(d, FIELDS)


def rows() -> list[AuditLog]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)))


class Thing:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "2026-01-02T03:04:00+00:00"),
        (date(2026, 10, 1), "2026-10-01"),
        (Colour.RED, "red"),
        (CaseStatus.CLOSED, CaseStatus.CLOSED.value),
        ((1, "a"), [1, "a"]),
        ({"b", "a", "c"}, ["a", "b", "c"]),
        (frozenset({Role.LEAD, Role.ADMIN}), sorted([Role.LEAD.value, Role.ADMIN.value])),
        ({1: date(2026, 1, 1)}, {"1": "2026-01-01"}),
        ([{"at": date(2026, 1, 1)}], [{"at": "2026-01-01"}]),
        (None, None),
        (True, True),
        (3, 3),
        ("text", "text"),
    ],
)
def test_snapshot_makes_values_plain_for_json(value: object, plain: object) -> None:
    assert snapshot(Thing(x=value, y=1), ["x"]) == {"x": plain}


def test_record_adds_a_row_the_caller_commits(app_ctx: Flask, demo_base: None) -> None:
    row = record(
        user("admin"), "department", 7, "update", {"on": date(2026, 1, 1)}, {"on": None}, NOW
    )
    assert row in db.session.new
    db.session.commit()
    [saved] = rows()
    assert (saved.actor_id, saved.entity, saved.entity_id, saved.action) == (
        user("admin").id,
        "department",
        "7",
        "update",
    )
    assert (saved.before, saved.after, saved.at) == ({"on": "2026-01-01"}, {"on": None}, NOW)


def test_record_without_an_actor_an_id_or_values(app_ctx: Flask, demo_base: None) -> None:
    record(None, "settings", None, "import", None, None)
    db.session.commit()
    [saved] = rows()
    assert (saved.actor_id, saved.entity_id, saved.before, saved.after) == (None, None, None, None)
    assert saved.at is not None


def test_record_is_undone_with_the_change_it_belongs_to(app_ctx: Flask, demo_base: None) -> None:
    record(user("admin"), "department", 1, "update", {}, {"x": 1}, NOW)
    db.session.rollback()
    assert rows() == []


def test_an_audited_change_commits_the_change_and_its_row(app_ctx: Flask, demo_base: None) -> None:
    with audited(user("admin"), "department", "update", of_department, NOW) as change:
        zjj = department("zjj")
        change.track(zjj)
        zjj.name_zh = "住建局"
    db.session.remove()
    assert department("zjj").name_zh == "住建局"
    [saved] = rows()
    assert (saved.entity, saved.entity_id, saved.action, saved.actor_id) == (
        "department",
        str(department("zjj").id),
        "update",
        user("admin").id,
    )
    assert saved.before == {"code": "zjj", "name_zh": "市住房和城乡建设局", "retired_at": None}
    assert saved.after == {"code": "zjj", "name_zh": "住建局", "retired_at": None}


def test_a_change_that_changes_nothing_writes_no_row(app_ctx: Flask, demo_base: None) -> None:
    with audited(user("admin"), "department", "update", of_department, NOW) as change:
        zjj = department("zjj")
        change.track(zjj)
        zjj.name_zh = "市住房和城乡建设局"
    assert rows() == []


def test_a_new_subject_has_no_before_and_gets_its_id_before_the_row(
    app_ctx: Flask, demo_base: None
) -> None:
    with audited(user("admin"), "department", "create", of_department, NOW) as change:
        made = Department(code="new", name_zh="新部门", name_en="New")
        change.track(made, new=True)
        db.session.add(made)
    [saved] = rows()
    assert saved.entity_id == str(department("new").id)
    assert saved.before is None
    assert saved.after == {"code": "new", "name_zh": "新部门", "retired_at": None}


def test_record_as_writes_the_given_values_instead_of_the_snapshots(
    app_ctx: Flask, demo_base: None
) -> None:
    with audited(user("admin"), "user", "password", lambda u: {"hash": u.password_hash}) as change:
        handler = user("handler")
        change.track(handler)
        handler.password_hash = "changed"
        change.record_as(None, {"password": "changed"})
    [saved] = rows()
    assert (saved.before, saved.after) == (None, {"password": "changed"})
    assert "hash" not in str(saved.after)


def test_a_body_that_tracks_nothing_writes_no_row_but_commits(
    app_ctx: Flask, demo_base: None
) -> None:
    with audited(user("admin"), "department", "update", of_department):
        department("zjj").name_en = "Housing"
    db.session.remove()
    assert department("zjj").name_en == "Housing"
    assert rows() == []


@pytest.mark.parametrize(
    "error", [ValidationFailed({"code": "taken"}), RuntimeError("boom"), KeyboardInterrupt()]
)
def test_any_error_rolls_the_whole_change_back_and_is_raised(
    app_ctx: Flask, demo_base: None, error: BaseException
) -> None:
    with (
        pytest.raises(type(error)),
        audited(user("admin"), "department", "update", of_department, NOW) as change,
    ):
        zjj = department("zjj")
        change.track(zjj)
        zjj.name_zh = "住建局"
        db.session.flush()
        raise error
    db.session.remove()
    assert department("zjj").name_zh == "市住房和城乡建设局"
    assert rows() == []


def test_recent_is_newest_first_with_the_id_breaking_ties(app_ctx: Flask, demo_base: None) -> None:
    for entity_id, at in ((1, NOW), (2, NOW + timedelta(hours=1)), (3, NOW), (4, NOW)):
        record(user("admin"), "department", entity_id, "update", None, {"n": entity_id}, at)
    db.session.commit()
    assert [r.entity_id for r in recent()] == ["2", "4", "3", "1"]
    assert [r.entity_id for r in recent(limit=2)] == ["2", "4"]


def test_recent_of_one_entity_with_its_actors_loaded(app_ctx: Flask, demo_base: None) -> None:
    record(user("admin"), "department", 1, "update", None, {"n": 1}, NOW)
    record(None, "category", 2, "update", None, {"n": 2}, NOW)
    record(user("admin"), "category", 3, "update", None, {"n": 3}, NOW)
    db.session.commit()
    found = recent(entity="category")
    db.session.expunge_all()  # a lazy load now would fail: the actors are already there
    assert [(r.entity_id, r.actor.username if r.actor else None) for r in found] == [
        ("3", "admin"),
        ("2", None),
    ]
