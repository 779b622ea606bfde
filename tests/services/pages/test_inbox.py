"""The staff inbox: whose notices, in which order, and marking one read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case, InboxMessage
from caseapp.services.errors import NotFound
from caseapp.services.notices.staff import notify_staff
from caseapp.services.pages.inbox import mark_read, messages_for
from tests.factories import case_row, user

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def notice(username: str, case: Case, key: str, at: datetime, kind: str = "urged") -> int:
    """One inbox notice for ``username``, made as the services make them; its id."""
    [message] = notify_staff([user(username)], case, kind, key, {"n": key}, at)
    db.session.commit()
    return message.id


def keys(username: str, limit: int = 100) -> list[str]:
    return [m.params["n"] for m in messages_for(user(username), limit)]


@pytest.fixture
def case(app_ctx: Flask, demo_base: None) -> Case:
    return case_row()


def test_unread_notices_come_first_then_the_newest(case: Case) -> None:
    notice("handler", case, "old", T0)
    newest = notice("handler", case, "newest", T0 + timedelta(hours=2))
    notice("handler", case, "middle", T0 + timedelta(hours=1))
    old_read = notice("handler", case, "old-read", T0 - timedelta(hours=1))
    new_read = notice("handler", case, "new-read", T0 + timedelta(hours=3))
    assert keys("handler") == ["new-read", "newest", "middle", "old", "old-read"]
    for message_id in (old_read, new_read, newest):
        mark_read(user("handler"), message_id, now=T0 + timedelta(days=1))
    assert keys("handler") == ["middle", "old", "new-read", "newest", "old-read"]


def test_notices_made_at_the_same_moment_come_last_made_first(case: Case) -> None:
    for key in ("a", "b", "c"):
        notice("handler", case, key, T0)
    assert keys("handler") == ["c", "b", "a"]


def test_a_user_sees_only_their_own_notices(case: Case) -> None:
    notice("handler", case, "mine", T0)
    notice("lead", case, "theirs", T0)
    assert keys("handler") == ["mine"]
    assert keys("lead") == ["theirs"]
    assert keys("supervisor") == []


def test_the_limit_keeps_the_first_in_order(case: Case) -> None:
    for hour in range(5):
        notice("handler", case, f"h{hour}", T0 + timedelta(hours=hour))
    assert keys("handler", limit=2) == ["h4", "h3"]


def test_mark_read_records_the_time_once_and_commits(case: Case) -> None:
    message_id = notice("handler", case, "k", T0)
    first = T0 + timedelta(hours=1)
    assert mark_read(user("handler"), message_id, now=first).read_at == first
    db.session.remove()  # what was committed, not what the session holds
    assert db.session.get(InboxMessage, message_id).read_at == first
    again = mark_read(user("handler"), message_id, now=first + timedelta(days=1))
    assert again.read_at == first


def test_mark_read_without_a_time_uses_now(case: Case) -> None:
    message_id = notice("handler", case, "k", T0)
    before = datetime.now(UTC)
    read_at = mark_read(user("handler"), message_id).read_at
    assert read_at is not None and before <= read_at <= datetime.now(UTC)


def test_another_users_notice_is_not_found_and_stays_unread(case: Case) -> None:
    theirs = notice("lead", case, "k", T0)
    with pytest.raises(NotFound):
        mark_read(user("handler"), theirs, now=T0)
    with pytest.raises(NotFound):
        mark_read(user("handler"), theirs + 1000, now=T0)
    db.session.remove()
    assert (
        db.session.scalar(sa.select(InboxMessage.read_at).where(InboxMessage.id == theirs)) is None
    )
