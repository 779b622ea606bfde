"""The staff queues: behind sign-in, only the cases the user may see, each role's own
queue, filters and search from the address, keyset pages, exports of the whole filtered
list, no citizen's personal data, and a constant number of statements per page."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from caseapp.extensions import db
from caseapp.models import Case, CaseRequest
from caseapp.models.enums import CaseKind, CaseStatus, Channel, RequestKind
from tests.conftest import AuthActions, _client_as
from tests.factories import case_in, case_row, new_case, user


def test_queue_needs_sign_in(client: FlaskClient) -> None:
    response = client.get("/staff/queue")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


def test_empty_queue_says_so(handler_client: FlaskClient) -> None:
    body = handler_client.get("/staff/queue").get_data(as_text=True)
    assert "您目前没有待办案件" in body


def test_handler_sees_own_department_cases_only(app: Flask, handler_client: FlaskClient) -> None:
    with app.app_context():
        case_row(title="住建局的案件", lead="zjj")
        case_row(title="城管局的案件", lead="cgj")
    body = handler_client.get("/staff/queue?view=all").get_data(as_text=True)
    assert "住建局的案件" in body
    assert "城管局的案件" not in body


def test_intake_sees_every_open_case_nearest_deadline_first(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        case_row(title="later-case", lead="cgj", due_in=timedelta(days=3))
        case_row(title="sooner-case", lead="zjj", due_in=timedelta(hours=2))
        case_row(title="closed-case", status=CaseStatus.CLOSED, due_in=None)
    body = intake_client.get("/staff/queue?view=all").get_data(as_text=True)
    assert body.index("sooner-case") < body.index("later-case")
    assert "closed-case" not in body


def test_admin_alone_sees_no_case(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        case_row(title="someone-elses-case")
    assert "someone-elses-case" not in admin_client.get("/staff/queue").get_data(as_text=True)


def test_a_midnight_deadline_reads_as_24_00_of_the_day_before(
    app: Flask, intake_client: FlaskClient
) -> None:
    from datetime import UTC, datetime

    from caseapp.extensions import db

    with app.app_context():
        case = case_row(title="deadline-case")
        case.next_deadline_at = datetime(
            2026, 11, 27, 16, 0, tzinfo=UTC
        )  # 00:00 on 28 Nov in Shanghai
        db.session.commit()
    body = intake_client.get("/staff/queue?view=all").get_data(as_text=True)
    assert "2026-11-27 24:00" in body


# --- the queues, filters, pages and exports through the web ---------------------------------

CASE_LINK = re.compile(r'href="/staff/cases/([^"]+)"')
NEXT_LINK = re.compile(r'rel="next" href="([^"]+)"')


def make(title: str, **attrs: object) -> Case:
    """A case row (by default dispatched to zjj, due in a day) with some columns set."""
    keys = ("status", "lead", "category", "due_in", "assists")
    case = case_row(title=title, **{k: attrs.pop(k) for k in keys if k in attrs})  # type: ignore[arg-type]
    handler = attrs.pop("handler", None)
    if handler:
        case.handler_id = user(str(handler)).id
    for name, value in attrs.items():
        setattr(case, name, value)
    db.session.commit()
    return case


def page_numbers(body: str) -> list[str]:
    return CASE_LINK.findall(body)


def all_pages(client: FlaskClient, url: str) -> list[str]:
    """The case numbers of every page of a queue, following the "next page" links."""
    numbers: list[str] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        numbers += page_numbers(body)
        link = NEXT_LINK.search(body)
        url = html.unescape(link.group(1)) if link else ""
    return numbers


def client_for(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


@pytest.mark.parametrize(
    ("username", "tab"),
    [
        ("intake", "intake"),
        ("handler", "mine"),
        ("lead", "department"),
        ("supervisor", "all"),
        ("leader", "all"),
    ],
)
def test_each_role_opens_its_own_queue(
    app: Flask, demo_base: None, username: str, tab: str
) -> None:
    body = client_for(app, username).get("/staff/queue").get_data(as_text=True)
    assert f'href="/staff/queue?view={tab}" aria-current="page"' in body


def test_the_queues_tabs_and_filters_work_from_the_address(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        make("new-bus", status=CaseStatus.NEW, lead=None, category="bus-stop")
        make("new-road", status=CaseStatus.NEW, lead=None)
        make("working-bus", status=CaseStatus.IN_PROGRESS, category="bus-stop")
        bus_stop = make("x", category="bus-stop", status=CaseStatus.CLOSED).category_id
    intake = intake_client.get("/staff/queue").get_data(as_text=True)
    assert "new-bus" in intake and "new-road" in intake and "working-bus" not in intake
    filtered = intake_client.get(f"/staff/queue?view=all&category={bus_stop}").get_data(
        as_text=True
    )
    assert "new-bus" in filtered and "working-bus" in filtered and "new-road" not in filtered
    assert f'<option selected value="{bus_stop}">' in filtered  # the form shows the filter
    both = intake_client.get(
        f"/staff/queue?view=all&category={bus_stop}&status=in_progress"
    ).get_data(as_text=True)
    assert page_numbers(both) and "working-bus" in both and "new-bus" not in both


def test_a_search_for_two_chinese_characters_finds_the_word_inside_a_title(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        make("公交站点设置不合理")
        make("路灯不亮")
    body = supervisor_client.get("/staff/queue?q=公交").get_data(as_text=True)
    assert "公交站点设置不合理" in body and "路灯不亮" not in body


def test_invalid_filters_are_shown_on_the_form_and_bad_positions_refused(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        make("some-case")
    page = supervisor_client.get("/staff/queue?status=bogus&received_from=2026-13-45")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'class="error-summary"' in body and "some-case" not in body
    reversed_range = supervisor_client.get(
        "/staff/queue?received_from=2026-11-28&received_to=2026-11-27"
    ).get_data(as_text=True)
    assert 'class="error-summary"' in reversed_range
    assert supervisor_client.get("/staff/queue?after=nonsense").status_code == 400
    assert supervisor_client.get("/staff/queue.csv?status=bogus").status_code == 400
    assert supervisor_client.get("/staff/queue.xlsx?kind=bogus").status_code == 400


def test_rows_show_deadline_states_in_words_and_link_to_the_case(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        overdue = make("overdue-case", due_in=timedelta(hours=-2)).number
        make("supervised-case", due_in=timedelta(days=-9), escalation_level=3)
        make("soon-case", due_in=timedelta(hours=3))
        make("later-case", due_in=timedelta(days=5), is_legacy=True)
    body = supervisor_client.get("/staff/queue?lang=en").get_data(as_text=True)
    rows = {title: row for row in body.split("<tr>")[2:] for title in re.findall(r"\w+-case", row)}
    assert ">overdue<" in rows["overdue-case"]
    assert ">supervised<" in rows["supervised-case"]
    assert ">due soon<" in rows["soon-case"]
    assert "Legacy issue" in rows["later-case"] and "due soon" not in rows["later-case"]
    assert f'href="/staff/cases/{overdue}"' in body


def test_no_personal_data_of_citizens_in_the_list_or_the_exports(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        number = new_case(citizen_name="张秀英", citizen_phone="13812345678").number
    for url in ("/staff/queue", "/staff/queue.csv"):
        body = intake_client.get(url).get_data(as_text=True)
        assert number in body
        assert "张秀英" not in body and "13812345678" not in body and "5678" not in body
    workbook = load_workbook(io.BytesIO(intake_client.get("/staff/queue.xlsx").data))
    cells = {str(c.value) for row in workbook.active.iter_rows() for c in row}
    assert number in cells and not any("张秀英" in c or "5678" in c for c in cells)


def test_pages_follow_each_other_with_the_filters_kept(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        wanted = []
        for i in range(120):
            due = None if i % 5 == 0 else timedelta(hours=i % 17)
            wanted.append(make(f"公交站点 {i}", due_in=due))
        make("路灯不亮", due_in=timedelta(hours=-1))
        far = datetime.max.replace(tzinfo=UTC)
        expected = [
            c.number for c in sorted(wanted, key=lambda c: (c.next_deadline_at or far, c.id))
        ]
    first = supervisor_client.get("/staff/queue?view=all&q=公交站点").get_data(as_text=True)
    next_link = html.unescape(NEXT_LINK.search(first).group(1))  # type: ignore[union-attr]
    assert "q=%E5%85%AC%E4%BA%A4%E7%AB%99%E7%82%B9" in next_link and "view=all" in next_link
    numbers = all_pages(supervisor_client, "/staff/queue?view=all&q=公交站点")
    assert numbers == expected  # every case once, in order, and nothing else


def _csv_rows(client: FlaskClient, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _xlsx_rows(client: FlaskClient, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    assert len(workbook.worksheets) == 1
    sheet = workbook.active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 40
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_the_exports_hold_every_row_of_the_filtered_list(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        for i in range(65):
            make(
                f"export-{i}",
                due_in=timedelta(hours=i % 9) if i % 4 else None,
                handler="handler" if i % 2 else None,
                is_legacy=i % 7 == 0,
            )
        make("in-progress", status=CaseStatus.IN_PROGRESS)
        make('=HYPERLINK("http://evil")')
    query = "view=all&status=dispatched"
    listed = all_pages(supervisor_client, f"/staff/queue?{query}")
    assert len(listed) == 66
    csv_rows = _csv_rows(supervisor_client, f"/staff/queue.csv?{query}")
    xlsx_rows = _xlsx_rows(supervisor_client, f"/staff/queue.xlsx?{query}")
    assert [row[0] for row in csv_rows[1:]] == listed
    assert [row[0] for row in xlsx_rows[1:]] == listed
    assert csv_rows[0] == xlsx_rows[0] and len(csv_rows[0]) == 12
    # The same cells, but a formula-looking title is defused in CSV (typed text in XLSX).
    evil = '=HYPERLINK("http://evil")'
    assert [r for r in xlsx_rows if r[1] == evil] and [r for r in csv_rows if r[1] == "'" + evil]
    assert [r for r in csv_rows if r[1] != "'" + evil] == [r for r in xlsx_rows if r[1] != evil]
    legacy = [row for row in csv_rows[1:] if row[1] == "export-0"][0]
    assert legacy[6] == "" and legacy[9] == "" and legacy[10] == "" and legacy[11] == "是"
    in_hand = [row for row in csv_rows[1:] if row[1] == "export-1"][0]
    assert in_hand[5] == "市住房和城乡建设局" and in_hand[6] == "承办人 王建国"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d (\d\d:\d\d|24:00)", in_hand[9])


def test_a_handler_never_sees_another_departments_case(
    app: Flask, handler_client: FlaskClient
) -> None:
    with app.app_context():
        own, other = set(), set()
        for status in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED):
            own.add(make("住建局 公交站点", status=status, handler="handler").number)
            other.add(make("城管局 公交站点", status=status, lead="cgj", handler="handler2").number)
        other.add(make("城管局 公交站点 协办", lead="cgj", assists=("yhq",)).number)
        own.add(make("城管局牵头 住建局协办", lead="cgj", assists=("zjj",)).number)
    seen: set[str] = set()
    for view in ("mine", "department", "all"):
        for q in ("", "公交", "公交站点", "城管局"):
            seen |= set(all_pages(handler_client, f"/staff/queue?view={view}&q={q}"))
            for kind in ("csv", "xlsx"):
                body = handler_client.get(f"/staff/queue.{kind}?view={view}&q={q}")
                text = body.data.decode("utf-8-sig") if kind == "csv" else ""
                if kind == "xlsx":
                    sheet = load_workbook(io.BytesIO(body.data)).active
                    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
                assert not any(number in text for number in other)
    assert seen == own
    assert not seen & other


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_the_statements_for_a_page_do_not_grow_with_its_rows(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    handlers = ["handler", "handler2", "lead", "intake", "supervisor"]
    leads = ["zjj", "cgj", "yhq-bc", "jtj", "swj", "gaj", "yhq"]
    categories = ["bus-stop", "road-damage", "street-light", "sanitation", "parks", "water"]
    with app.app_context():
        for i in range(40):
            make(
                f"q{i}",
                status=CaseStatus.IN_PROGRESS if i % 2 else CaseStatus.DISPATCHED,
                handler=handlers[i % len(handlers)],
                lead=leads[i % len(leads)],
                category=categories[i % len(categories)],
                kind=list(CaseKind)[i % len(CaseKind)],
                channel=Channel.PHONE if i < 3 else Channel.WEB,
            )
    counts = {}
    urls = {3: "/staff/queue?view=all&channel=phone", 40: "/staff/queue?view=all"}
    for rows, url in urls.items():
        supervisor_client.get(url)  # warm: the statement cache, the session's user
        with app.app_context(), counting_statements() as statements:
            body = supervisor_client.get(url).get_data(as_text=True)
        assert len(page_numbers(body)) == rows
        counts[rows] = len(statements)
    assert counts[3] == counts[40], counts


def test_the_navigation_counts_link_to_the_lists_they_count(
    app: Flask, handler_client: FlaskClient
) -> None:
    with app.app_context():
        late = make(
            "late-case",
            status=CaseStatus.IN_PROGRESS,
            handler="handler",
            due_in=timedelta(minutes=-5),
        ).number
        make("other-late-case", status=CaseStatus.IN_PROGRESS, due_in=timedelta(minutes=-5))
    body = handler_client.get("/staff/queue?lang=en").get_data(as_text=True)
    link = re.search(r'<a class="nav-count" href="([^"]+)">Overdue: 1</a>', body)
    assert link, "the handler's overdue count is in the navigation"
    listed = handler_client.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert page_numbers(listed) == [late]


def test_approvals_waiting_are_counted_for_who_decides_them(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        case = make("waiting", status=CaseStatus.IN_PROGRESS, handler="handler")
        case.requests.append(
            CaseRequest(kind=RequestKind.EXTENSION, case_status=case.status, days=3)
        )
        db.session.commit()
    body = supervisor_client.get("/staff/queue?lang=en").get_data(as_text=True)
    assert "Approvals waiting: 1" in body
    handler = client_for(app, "handler").get("/staff/queue?lang=en").get_data(as_text=True)
    assert "Approvals waiting" not in handler


# --- every case findable (issue 18) ---------------------------------------------------------


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.NEW])
def test_a_case_number_in_the_search_opens_that_case_whatever_its_status(
    app: Flask, intake_client: FlaskClient, status: CaseStatus
) -> None:
    with app.app_context():
        number = case_in(status).number
    for typed in (number, number.lower(), f"  {number} "):
        response = intake_client.get("/staff/queue", query_string={"q": typed, "view": "all"})
        assert response.status_code == 302, typed
        assert response.headers["Location"].endswith(f"/staff/cases/{number}")


def test_a_number_the_user_may_not_see_opens_nothing(
    app: Flask, handler_client: FlaskClient
) -> None:
    with app.app_context():
        theirs = case_in(CaseStatus.CLOSED, lead="cgj").number
    for typed in (theirs, "YC2026-999999"):
        response = handler_client.get("/staff/queue", query_string={"q": typed})
        assert response.status_code == 200
        assert f"/staff/cases/{theirs}" not in response.get_data(as_text=True)


def test_the_closed_and_withdrawn_tab_lists_the_finished_cases_only(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        numbers = {status: case_in(status).number for status in CaseStatus}
    page = supervisor_client.get("/staff/queue?view=finished").get_data(as_text=True)
    assert 'href="/staff/queue?view=finished"' in page or "view=finished" in page
    listed = {s for s, n in numbers.items() if f"/staff/cases/{n}" in page}
    assert listed == {CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.REJECTED}
    open_page = supervisor_client.get("/staff/queue?view=all").get_data(as_text=True)
    assert f"/staff/cases/{numbers[CaseStatus.CLOSED]}" not in open_page


def test_the_export_names_the_escalation_in_words(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        for level, title in ((0, "level-0"), (2, "level-2"), (3, "level-3")):
            row = case_row(title=title)
            row.escalation_level = level
        db.session.commit()
    rows = _xlsx_rows(supervisor_client, "/staff/queue.xlsx?view=all&lang=zh_CN")
    words = {row[1]: row[10] for row in rows[1:]}
    assert words == {"level-0": "", "level-2": "已超期", "level-3": "督办中"}


def test_the_approvals_badge_opens_the_cases_waiting_for_that_users_decision(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    from caseapp.services.casework import handling
    from tests.factories import staff

    with app.app_context():
        waiting = case_in(CaseStatus.IN_PROGRESS)
        handling.request_extension(waiting, staff("handler"), 2, "需要协调。", version=None)
        petition = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION)
        handling.request_extension(petition, staff("handler"), 2, "需要协调。", version=None)
        quiet = case_in(CaseStatus.IN_PROGRESS).number
        waiting_number, petition_number = waiting.number, petition.number
    page = supervisor_client.get("/staff/queue").get_data(as_text=True)
    assert 'href="/staff/queue?view=approvals"' in page
    listed = supervisor_client.get("/staff/queue?view=approvals").get_data(as_text=True)
    assert f"/staff/cases/{waiting_number}" in listed
    # A petition's extension is its department lead's to decide, not the supervisor's.
    assert f"/staff/cases/{petition_number}" not in listed
    assert f"/staff/cases/{quiet}" not in listed
    lead = _client_as(app, "lead")
    theirs = lead.get("/staff/queue?view=approvals").get_data(as_text=True)
    assert f"/staff/cases/{petition_number}" in theirs
    assert f"/staff/cases/{waiting_number}" not in theirs


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_coded_column_of_the_export_is_a_label_in_the_readers_language(
    app: Flask, supervisor_client: FlaskClient, lang: str
) -> None:
    """Kind, category, status, department, channel, escalation and legacy are words of
    the reader's language in the XLSX, never the codes or enum values stored."""
    from itertools import cycle

    from flask_babel import force_locale

    from caseapp.labels import CHANNEL_LABELS, KIND_LABELS, STATUS_LABELS, escalation_label
    from caseapp.models.enums import CloseReason, Priority

    statuses = list(CaseStatus)
    kinds, channels = cycle(CaseKind), cycle(Channel)
    with app.app_context():
        made = {}
        for i, status in enumerate(statuses * 2):
            finished = status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.REJECTED)
            case = make(
                f"labels-{i}",
                status=status,
                lead="cgj" if i % 2 else "zjj",
                category="bus-stop" if i % 3 else "road-damage",
                due_in=None if finished else timedelta(days=i - 5),
                kind=next(kinds),
                channel=next(channels),
                escalation_level=i % 4,
                is_legacy=i % 5 == 0,
                priority=Priority.URGENT if i % 2 else Priority.NORMAL,
                close_reason=CloseReason.MERGED if status is CaseStatus.CLOSED else None,
            )
            made[case.number] = (
                case.kind,
                case.category.name(lang),
                case.status,
                case.lead_department.name(lang),  # type: ignore[union-attr]
                case.channel,
                case.escalation_level,
                case.is_legacy,
            )
    rows = []
    for view in ("all", "finished"):
        rows += _xlsx_rows(supervisor_client, f"/staff/queue.xlsx?view={view}&lang={lang}")[1:]
    assert {row[0] for row in rows} == set(made)
    with app.test_request_context(), force_locale(lang):
        yes, no = ("是", "否") if lang == "zh_CN" else ("Yes", "No")
        for row in rows:
            kind, category, status, department, channel, level, legacy = made[row[0]]
            assert row[2] == str(KIND_LABELS[kind])
            assert row[3] == category
            assert row[4] == str(STATUS_LABELS[status])
            assert row[5] == department
            assert row[7] == str(CHANNEL_LABELS[channel])
            assert row[10] == escalation_label(level)
            assert row[11] == (yes if legacy else no)
    codes = {
        e.value for enum in (CaseKind, CaseStatus, Channel, CloseReason, Priority) for e in enum
    } | {"zjj", "cgj", "bus-stop", "road-damage", "0", "1", "2", "3"}
    assert not {cell for row in rows for cell in row} & codes
    if lang == "zh_CN":  # and the words are the Chinese ones
        assert {row[4] for row in rows} >= {"已归档", "已撤回", "不予受理", "办理中"}
        assert {row[7] for row in rows} >= {"网上提交", "来访"}
        assert {row[10] for row in rows} >= {"已超期", "督办中"}
