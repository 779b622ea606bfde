"""The staff queues: what each queue holds for each role, every filter, the text search
through its index, keyset pages, and the navigation's counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case, CaseRequest, Category, User
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Channel,
    RequestKind,
    RequestStatus,
    Role,
)
from caseapp.services.access import accounts
from caseapp.services.errors import ValidationFailed
from caseapp.services.pages.queue import (
    PAGE_SIZE,
    Cursor,
    DeadlineState,
    QueueFilters,
    QueueView,
    choose_view,
    default_view,
    iter_queue,
    navigation_counts,
    offered_views,
    queue_page,
    queue_statement,
)
from caseapp.services.pages.search import text_matches
from tests.conftest import DEMO_PASSWORD, database_kind
from tests.factories import case_row, department, user

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
S = CaseStatus


def make(
    title: str,
    *,
    status: CaseStatus = S.DISPATCHED,
    lead: str | None = "zjj",
    due: datetime | None = None,
    handler: str | None = None,
    category: str = "road-damage",
    **attrs: object,
) -> Case:
    """A case row with the given columns (``due`` is its next deadline)."""
    case = case_row(status=status, lead=lead, title=title, category=category, due_in=None)
    case.next_deadline_at = due
    case.received_at = attrs.pop("received_at", NOW - timedelta(days=1))  # type: ignore[assignment]
    if handler:
        case.handler_id = user(handler).id
    for name, value in attrs.items():
        setattr(case, name, value)
    db.session.commit()
    return case


def titles(
    who: User | str,
    view: QueueView | None = None,
    filters: QueueFilters | None = None,
    now: datetime = NOW,
) -> set[str]:
    someone = user(who) if isinstance(who, str) else who
    page = queue_page(
        someone,
        view or default_view(someone),
        filters or QueueFilters(),
        now=now,
        size=500,
    )
    return {case.title for case in page.cases}


@pytest.fixture
def district_lead(app_ctx: Flask, demo_base: None) -> User:
    """The lead of the district government; its street offices are below it."""
    return accounts.create_user("lead-yhq", DEMO_PASSWORD, "盐湖区负责人", (Role.LEAD,), "yhq")


# --- which queue holds what, for whom --------------------------------------------------------


@pytest.fixture
def queue_cases(app_ctx: Flask, demo_base: None) -> None:
    hour = timedelta(hours=1)
    make("new", status=S.NEW, lead=None, due=NOW + hour)
    make("returned", status=S.RETURNED, lead=None, due=NOW + 2 * hour)
    make("dispatched-zjj", lead="zjj", due=NOW + 3 * hour)
    make("dispatched-street", lead="yhq-bc", due=NOW + 4 * hour)
    make("dispatched-cgj", lead="cgj", due=NOW + 5 * hour)
    make("mine-in-progress", status=S.IN_PROGRESS, handler="handler", due=NOW + 6 * hour)
    make("mine-resolved", status=S.RESOLVED, handler="handler", due=NOW + 7 * hour)
    make("mine-closed", status=S.CLOSED, handler="handler")
    make("cgj-in-progress", status=S.IN_PROGRESS, lead="cgj", handler="handler2")
    make(
        "leader-case",
        status=S.AWAITING_CITIZEN,
        lead="cgj",
        handler="handler2",
        responsible_leader_id=user("leader").id,
    )


ALL_OPEN = {
    "new",
    "returned",
    "dispatched-zjj",
    "dispatched-street",
    "dispatched-cgj",
    "mine-in-progress",
    "mine-resolved",
    "cgj-in-progress",
    "leader-case",
}
V = QueueView


@pytest.mark.parametrize(
    ("username", "view", "expected"),
    [
        ("intake", None, {"new", "returned"}),
        ("intake", V.ALL, ALL_OPEN),
        # A handler's own list holds what their department waits to sign for, too.
        ("handler", None, {"dispatched-zjj", "mine-in-progress", "mine-resolved"}),
        ("handler", V.DEPARTMENT, {"dispatched-zjj"}),
        ("handler", V.ALL, {"dispatched-zjj", "mine-in-progress", "mine-resolved"}),
        ("handler2", None, {"dispatched-cgj", "cgj-in-progress", "leader-case"}),
        ("handler2", V.DEPARTMENT, {"dispatched-cgj"}),
        ("lead", None, {"dispatched-zjj"}),
        ("lead", V.MINE, set()),
        ("lead-yhq", None, {"dispatched-street"}),
        ("supervisor", None, ALL_OPEN),
        ("supervisor", V.INTAKE, {"new", "returned"}),
        ("leader", None, {"leader-case"}),
        ("admin", None, set()),
    ],
)
def test_each_queue_holds_its_cases_for_each_role(
    queue_cases: None,
    district_lead: User,
    username: str,
    view: QueueView | None,
    expected: set[str],
) -> None:
    assert titles(username, view) == expected


@pytest.mark.parametrize(
    ("username", "default", "offered"),
    [
        ("intake", V.INTAKE, (V.INTAKE, V.ALL, V.FINISHED)),
        ("handler", V.MINE, (V.MINE, V.DEPARTMENT, V.ALL, V.FINISHED)),
        ("lead", V.DEPARTMENT, (V.MINE, V.DEPARTMENT, V.APPROVALS, V.ALL, V.FINISHED)),
        ("supervisor", V.ALL, (V.INTAKE, V.APPROVALS, V.ALL, V.FINISHED)),
        ("leader", V.ALL, (V.ALL, V.FINISHED)),
        ("admin", V.ALL, (V.ALL, V.FINISHED)),
    ],
)
def test_default_and_offered_queues_per_role(
    app_ctx: Flask,
    demo_base: None,
    username: str,
    default: QueueView,
    offered: tuple[QueueView, ...],
) -> None:
    someone = user(username)
    assert default_view(someone) is default
    assert offered_views(someone) == offered
    assert choose_view(someone, None) is default
    assert choose_view(someone, "no-such-queue") is default
    for view in offered:
        assert choose_view(someone, view.value) is view


def test_a_queue_not_offered_falls_back_to_the_default(app_ctx: Flask, demo_base: None) -> None:
    assert choose_view(user("intake"), "department") is V.INTAKE
    assert choose_view(user("leader"), "mine") is V.ALL


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
def filter_cases(app_ctx: Flask, demo_base: None) -> None:
    make("a-plain", due=NOW + timedelta(days=3))
    make(
        "b-complaint",
        status=S.IN_PROGRESS,
        lead="cgj",
        handler="handler2",
        category="street-light",
        kind=CaseKind.COMPLAINT,
        channel=Channel.PHONE,
        due=NOW + timedelta(hours=20),  # tomorrow 06:00 in Shanghai: due soon, not today
    )
    make("c-overdue", status=S.IN_PROGRESS, handler="handler", due=NOW - timedelta(hours=1))
    make("d-supervised", due=NOW - timedelta(days=10), escalation_level=3)
    make("e-escalated", due=NOW + timedelta(days=3), escalation_level=1)
    make("f-legacy", status=S.AWAITING_CITIZEN, is_legacy=True)
    # 00:30 on 27 November in Shanghai, and 23:30 on 26 November.
    make(
        "g-today",
        due=NOW + timedelta(hours=5),
        received_at=datetime(2026, 11, 26, 16, 30, tzinfo=UTC),
    )
    make("h-late-evening", received_at=datetime(2026, 11, 26, 15, 30, tzinfo=UTC))


FILTERED = {"a-plain", "b-complaint", "c-overdue", "d-supervised", "e-escalated"}
EVERY = FILTERED | {"f-legacy", "g-today", "h-late-evening"}


def _category(code: str) -> int:
    return db.session.scalar(sa.select(Category.id).where(Category.service_code == code))


FILTER_TABLE: list[tuple[str, Callable[[], QueueFilters], set[str]]] = [
    ("status", lambda: QueueFilters(status=S.IN_PROGRESS), {"b-complaint", "c-overdue"}),
    ("kind", lambda: QueueFilters(kind=CaseKind.COMPLAINT), {"b-complaint"}),
    ("category", lambda: QueueFilters(category_id=_category("street-light")), {"b-complaint"}),
    ("department", lambda: QueueFilters(department_id=department("cgj").id), {"b-complaint"}),
    ("handler", lambda: QueueFilters(handler_id=user("handler").id), {"c-overdue"}),
    ("channel", lambda: QueueFilters(channel=Channel.PHONE), {"b-complaint"}),
    (
        "due soon",
        lambda: QueueFilters(deadline=DeadlineState.DUE_SOON),
        {"b-complaint", "e-escalated", "g-today"},
    ),
    ("due today", lambda: QueueFilters(deadline=DeadlineState.DUE_TODAY), {"g-today"}),
    (
        "overdue",
        lambda: QueueFilters(deadline=DeadlineState.OVERDUE),
        {"c-overdue", "d-supervised"},
    ),
    ("supervised", lambda: QueueFilters(deadline=DeadlineState.SUPERVISED), {"d-supervised"}),
    ("legacy", lambda: QueueFilters(legacy=True), {"f-legacy"}),
    ("not legacy", lambda: QueueFilters(legacy=False), EVERY - {"f-legacy"}),
    ("received from", lambda: QueueFilters(received_from=date(2026, 11, 27)), {"g-today"}),
    ("received to", lambda: QueueFilters(received_to=date(2026, 11, 26)), EVERY - {"g-today"}),
    (
        "received on one day",
        lambda: QueueFilters(received_from=date(2026, 11, 26), received_to=date(2026, 11, 26)),
        EVERY - {"g-today"},
    ),
    ("received before any", lambda: QueueFilters(received_to=date(2026, 11, 24)), set()),
    (
        "two filters at once",
        lambda: QueueFilters(status=S.IN_PROGRESS, handler_id=user("handler").id),
        {"c-overdue"},
    ),
    ("nothing", lambda: QueueFilters(), EVERY),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [(make_filters, expected) for _name, make_filters, expected in FILTER_TABLE],
    ids=[name for name, _f, _e in FILTER_TABLE],
)
def test_each_filter(
    filter_cases: None, filters: Callable[[], QueueFilters], expected: set[str]
) -> None:
    assert titles("supervisor", V.ALL, filters()) == expected


def test_filters_narrow_a_queue_never_widen_it(filter_cases: None) -> None:
    assert titles("handler", V.ALL, QueueFilters(department_id=department("cgj").id)) == set()
    assert titles("intake", V.INTAKE, QueueFilters(status=S.IN_PROGRESS)) == set()


# --- text search -----------------------------------------------------------------------------


@pytest.fixture
def search_cases(app_ctx: Flask, demo_base: None) -> dict[str, str]:
    if database_kind() == "postgresql":
        # The suite empties tables with DELETE, which leaves the planner the statistics
        # of earlier tests' rows; a truncated table has none, like a new database.
        db.session.execute(sa.text("TRUNCATE cases CASCADE"))
        db.session.commit()
    made = [
        make("公交站点设置不合理", description="早高峰公交车经常不停靠。"),
        make("路灯不亮", description="公交站旁边的路灯坏了一周。"),
        make("Bus stop moved", description="The No. 12 BUS stop is gone."),
        make("100% 完成的工程又坏了", description="井盖松动。"),
        make("城管局的公交站点", lead="cgj", description="站牌倾斜。"),
    ]
    return {case.title: case.number for case in made}


ZJJ_BUS = {"公交站点设置不合理", "路灯不亮"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("公交", ZJJ_BUS | {"城管局的公交站点"}),  # two characters: one bigram
        ("公交站", ZJJ_BUS | {"城管局的公交站点"}),  # in a title or a description
        ("公交站点", {"公交站点设置不合理", "城管局的公交站点"}),
        ("不停靠", {"公交站点设置不合理"}),
        ("bus STOP", {"Bus stop moved"}),  # every word, any letter case
        ("公交 路灯", {"路灯不亮"}),
        ("公交　路灯", {"路灯不亮"}),  # a full-width space separates words too
        ("%", {"100% 完成的工程又坏了"}),  # a literal, not a wildcard
        ("0% 完", {"100% 完成的工程又坏了"}),
        ('"', set()),  # not query syntax
        ('"公交站"', set()),
        ("AND", set()),
        ("地铁站", set()),
    ],
)
def test_free_text_finds_chinese_words_inside_titles_and_descriptions(
    search_cases: dict[str, str], q: str, expected: set[str]
) -> None:
    assert titles("supervisor", V.ALL, QueueFilters(q=q)) == expected


@pytest.fixture
def land_cases(app_ctx: Flask, demo_base: None) -> None:
    make("1999年土地被征用", description="补偿款至今未到位，请求查明。")
    make("3路公交车绕行", description="早高峰不进站。")
    make("局里说地局土", description="这里说的是土地。")  # 土地局's bigrams, not the word
    make("噪音扰民", description="晚上十点后工地（土地整理）施工：影响休息！")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("土地", {"1999年土地被征用", "噪音扰民", "局里说地局土"}),  # 2 characters
        ("土地局", set()),  # 3: its bigrams 土地 and 地局 are there, the word is not
        ("地局土", {"局里说地局土"}),
        ("土地被征用", {"1999年土地被征用"}),  # 5
        ("补偿款至今", {"1999年土地被征用"}),
        ("征用土地", set()),
        ("补偿款", {"1999年土地被征用"}),  # 3: in the description, not the title
        ("3路", {"3路公交车绕行"}),  # digit and character
        ("9年", {"1999年土地被征用"}),
        ("1999年土地", {"1999年土地被征用"}),
        ("（土地", {"噪音扰民"}),  # full-width punctuation is text too
        ("施工：", {"噪音扰民"}),
        ("休息！", {"噪音扰民"}),
        ("工地 整理", {"噪音扰民"}),
        ("年", {"1999年土地被征用"}),  # one character: the LIKE alone
        ("土地 补偿", {"1999年土地被征用"}),
    ],
)
def test_words_of_any_length_are_found_as_substrings(
    land_cases: None, q: str, expected: set[str]
) -> None:
    assert titles("supervisor", V.ALL, QueueFilters(q=q)) == expected


def test_a_search_pages_its_matches_in_queue_order(app_ctx: Flask, demo_base: None) -> None:
    """One statement serves the cases with and without a deadline, cursor across both."""
    made = [make(f"土地{i}", due=NOW + timedelta(hours=i) if i % 3 else None) for i in range(1, 12)]
    make("路灯", due=NOW)
    someone, seen, after = user("supervisor"), [], None
    while True:
        filters = QueueFilters(q="土地")
        page = queue_page(someone, V.ALL, filters, after, now=NOW, size=4)
        seen += [case.id for case in page.cases]
        if page.next_cursor is None:
            break
        after = Cursor.decode(page.next_cursor.encode())
    assert seen == _expected_order(made)
    exported = [c.id for c in iter_queue(someone, V.ALL, QueueFilters(q="土地"), now=NOW, batch=5)]
    assert exported == _expected_order(made)


def test_a_case_number_finds_that_case(search_cases: dict[str, str]) -> None:
    number = search_cases["路灯不亮"]
    assert titles("supervisor", V.ALL, QueueFilters(q=number)) == {"路灯不亮"}
    assert titles("supervisor", V.ALL, QueueFilters(q=number.lower())) == {"路灯不亮"}


def test_a_handler_searching_finds_nothing_of_another_department(
    search_cases: dict[str, str],
) -> None:
    for q in ("公交", "公交站", "公交站点", "站牌倾斜"):
        for view in offered_views(user("handler")):
            assert "城管局的公交站点" not in titles("handler", view, QueueFilters(q=q))
    assert titles("handler", V.ALL, QueueFilters(q="公交站")) == ZJJ_BUS
    number = search_cases["城管局的公交站点"]
    assert titles("handler", V.ALL, QueueFilters(q=number)) == set()


def _literal_sql(stmt: sa.Select) -> str:  # type: ignore[type-arg]
    return str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("q", ["公交", "公交站", "3路"])
def test_the_search_uses_the_bigram_index(search_cases: dict[str, str], q: str) -> None:
    stmt = (
        queue_statement(user("handler"), V.ALL, QueueFilters(q=q), NOW)
        .order_by(Case.next_deadline_at, Case.id)
        .limit(PAGE_SIZE + 1)
    )
    conn = db.session.connection()  # SQLite: a second connection would wait for its lock
    if database_kind() == "sqlite":
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + _literal_sql(stmt)).all()
        details = [row[-1] for row in plan]
        # The FTS5 table answers the MATCH (an index lookup, not a scan of cases).
        assert any("case_bigrams VIRTUAL TABLE INDEX" in d and ":M" in d for d in details), details
    else:
        indexdef = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cases_text_bigrams'"
        ).scalar_one()
        assert "gin" in indexdef and "text_bigrams" in indexdef
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        # On these few rows the planner may read a queue of 3+ character words by its
        # status index and check the stored bigrams row by row, which is as cheap; the
        # two-character word, which no index served before, must take the bigrams'.
        queries = [sa.select(Case.id).where(text_matches(q))]
        if len(q) == 2:
            queries.append(stmt)
        for query in queries:
            plan = conn.exec_driver_sql("EXPLAIN " + _literal_sql(query)).scalars().all()
            assert any("ix_cases_text_bigrams" in line for line in plan), plan
    db.session.rollback()


def test_the_index_follows_new_edited_and_deleted_cases(app_ctx: Flask, demo_base: None) -> None:
    def found(q: str) -> set[str]:
        return titles("supervisor", V.ALL, QueueFilters(q=q))

    case = make("公交站点设置不合理")
    assert found("公交站点") == {"公交站点设置不合理"}
    assert found("公交") == {"公交站点设置不合理"}
    case.title = "路灯不亮"
    db.session.commit()
    assert found("公交站点") == set()
    assert found("公交") == set()
    assert found("路灯不亮") == {"路灯不亮"}
    assert found("路灯") == {"路灯不亮"}
    case.description = "人行道砖块松动"
    db.session.commit()
    assert found("砖块松") == {"路灯不亮"}
    case.status = S.IN_PROGRESS  # an update that leaves the text alone
    db.session.commit()
    assert found("砖块松") == {"路灯不亮"}
    assert found("砖块") == {"路灯不亮"}
    db.session.delete(case)
    db.session.commit()
    assert found("路灯不亮") == set()
    assert found("路灯") == set()
    if database_kind() == "sqlite":
        # The FTS table's index is whole after the triggers' deletes.
        db.session.execute(
            sa.text("INSERT INTO case_bigrams (case_bigrams, rank) VALUES ('integrity-check', 1)")
        )
        db.session.commit()


# --- order and keyset pages ------------------------------------------------------------------


def _expected_order(cases: list[Case]) -> list[int]:
    far = datetime.max.replace(tzinfo=UTC)
    return [c.id for c in sorted(cases, key=lambda c: (c.next_deadline_at or far, c.id))]


def _walk(who: str, size: int = PAGE_SIZE) -> tuple[list[int], list[int]]:
    """Every page of the supervisor's queue: the ids in order, and each page's length."""
    someone = user(who)
    seen: list[int] = []
    lengths: list[int] = []
    after: Cursor | None = None
    while True:
        page = queue_page(someone, V.ALL, QueueFilters(), after, now=NOW, size=size)
        seen += [case.id for case in page.cases]
        lengths.append(len(page.cases))
        if page.next_cursor is None:
            return seen, lengths
        # The cursor survives the trip through a URL.
        after = Cursor.decode(page.next_cursor.encode())


def test_keyset_pages_visit_120_cases_once_each_in_order(app_ctx: Flask, demo_base: None) -> None:
    cases = []
    for i in range(120):
        # Every fourth has no running clock (these come last); several share a deadline,
        # so the id breaks ties across pages.
        due = None if i % 4 == 0 else NOW + timedelta(hours=(i * 7) % 30, microseconds=i % 3)
        cases.append(make(f"case {i}", due=due))
    seen, lengths = _walk("supervisor")
    assert lengths == [50, 50, 20]
    assert len(set(seen)) == 120
    assert seen == _expected_order(cases)


@pytest.mark.parametrize(
    ("with_deadline", "without"),
    [(10, 3), (10, 0), (0, 12), (9, 1), (11, 9), (7, 7), (0, 0)],
)
def test_keyset_pages_across_the_border_of_cases_without_deadline(
    app_ctx: Flask, demo_base: None, with_deadline: int, without: int
) -> None:
    cases = [make(f"d{i}", due=NOW + timedelta(minutes=i % 4)) for i in range(with_deadline)]
    cases += [make(f"n{i}") for i in range(without)]
    seen, lengths = _walk("supervisor", size=10)
    assert seen == _expected_order(cases)
    assert all(length == 10 for length in lengths[:-1])
    assert sum(lengths) == with_deadline + without


def test_export_iterates_every_case_in_batches(app_ctx: Flask, demo_base: None) -> None:
    leads = ["zjj", "cgj", "jtj", None]
    cases = [
        make(f"c{i}", due=NOW + timedelta(hours=i % 5) if i % 3 else None, lead=leads[i % 4])
        for i in range(23)
    ]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        exported = []
        for case in iter_queue(user("supervisor"), V.ALL, QueueFilters(), batch=4):
            # What an export row shows is loaded with the batch.
            assert case.category.name_zh and (
                case.lead_department is None or case.lead_department.code
            )
            exported.append(case.id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert exported == _expected_order(cases)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # Loading the user (and its roles); then 6 batches of 4, a SELECT each and one more
    # where a batch crosses into the cases without a deadline. Nothing per case.
    assert len(selects) == 2 + 6 + 1, selects


@pytest.mark.parametrize("text", ["", "x", "1.", ".5", "abc.def", "n.", "n.x", "1.2.3", "9" * 40])
def test_a_cursor_that_names_no_position_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        Cursor.decode(text)


def test_a_cursor_survives_encoding() -> None:
    for cursor in (Cursor(NOW, 7), Cursor(NOW + timedelta(microseconds=3), 1), Cursor(None, 12)):
        assert Cursor.decode(cursor.encode()) == cursor


# --- the navigation's counts -----------------------------------------------------------------


def _request(case: Case, kind: RequestKind, status: RequestStatus = RequestStatus.PENDING) -> None:
    case.requests.append(
        CaseRequest(kind=kind, status=status, case_status=case.status, requested_at=NOW)
    )
    db.session.commit()


def test_navigation_counts_per_user(app_ctx: Flask, demo_base: None) -> None:
    # NOW is 10:00 in Shanghai; the day ends at 16:00 UTC.
    ip = S.IN_PROGRESS
    make("later-today", status=ip, handler="handler", due=NOW + timedelta(hours=13))
    make("overdue", status=ip, handler="handler", due=NOW - timedelta(minutes=1))
    make("tomorrow", status=ip, handler="handler", due=NOW + timedelta(hours=14))
    make("not-mine-today", status=ip, due=NOW + timedelta(hours=1))
    make("cgj-overdue", status=ip, lead="cgj", handler="handler2", due=NOW - timedelta(days=1))
    extension = make("extension", status=ip, handler="handler")
    petition = make("petition", status=ip, handler="handler", kind=CaseKind.PETITION)
    returning = make("return", handler="handler")
    decided = make("decided", status=ip, handler="handler")
    _request(extension, RequestKind.EXTENSION)
    _request(petition, RequestKind.EXTENSION)
    _request(returning, RequestKind.RETURN)
    _request(decided, RequestKind.EXTENSION, RequestStatus.APPROVED)

    handler = navigation_counts(user("handler"), NOW)
    assert (handler.view, handler.due_today, handler.overdue, handler.approvals) == (
        V.MINE,
        1,
        1,
        0,
    )
    supervisor = navigation_counts(user("supervisor"), NOW)
    # All open cases; the petition's extension is the lead's to decide.
    assert (supervisor.due_today, supervisor.overdue, supervisor.approvals) == (2, 2, 2)
    lead = navigation_counts(user("lead"), NOW)
    assert (lead.view, lead.due_today, lead.overdue, lead.approvals) == (V.DEPARTMENT, 0, 0, 1)
    lead_cgj = accounts.create_user("lead-cgj", DEMO_PASSWORD, "城管局负责人", (Role.LEAD,), "cgj")
    assert navigation_counts(lead_cgj, NOW).approvals == 0
    admin = navigation_counts(user("admin"), NOW)
    assert (admin.due_today, admin.overdue, admin.approvals) == (0, 0, 0)


def test_the_navigation_keeps_its_deadline_counts_a_while_but_not_its_approvals(
    app_ctx: Flask, demo_base: None
) -> None:
    from caseapp.services.pages import queue

    queue._KEPT_DEADLINE_COUNTS.clear()
    ip = S.IN_PROGRESS
    make("overdue", status=ip, due=NOW - timedelta(minutes=1))
    waiting = make("extension", status=ip)
    supervisor = user("supervisor")
    try:
        first = navigation_counts(supervisor, NOW, max_age_seconds=30)
        assert (first.overdue, first.approvals) == (1, 0)
        make("overdue too", status=ip, due=NOW - timedelta(hours=1))
        _request(waiting, RequestKind.EXTENSION)
        kept = navigation_counts(supervisor, NOW, max_age_seconds=30)
        assert (kept.overdue, kept.approvals) == (1, 1)  # the new request shows at once
        fresh = navigation_counts(supervisor, NOW, max_age_seconds=0)
        assert (fresh.overdue, fresh.approvals) == (2, 1)
    finally:
        queue._KEPT_DEADLINE_COUNTS.clear()
