"""The users of ``flask bench load`` (issue 20), for Locust: citizens filing through the
public form and tracking their case by its private link, Open311 clients reading and
filing, staff browsing their queues and taking real actions, supervisors reading their
pages.

Run by ``caseapp.bench.load`` as a Locust subprocess, never imported by the app: Locust
brings gevent, whose monkey-patching must not enter the Flask process. So this file
imports nothing of caseapp; what it needs comes in the environment:

- ``CASEAPP_LOAD_RESULTS``: where to write what was measured (JSON, at the end);
- ``CASEAPP_LOAD_API_KEY``: an Open311 key for filings;
- ``CASEAPP_LOAD_STAFF``: the demo staff as ``{"intake": ["intake"], …}`` (JSON);
- ``CASEAPP_LOAD_PASSWORD``: their password.

Every request is named by its route (``GET /staff/cases/<number>``), never by its URL,
and recorded with its status (0: no answer) and time. Every filing carries a serial in
its description: the numbers acknowledged and the filings whose answer was lost (an
error, no answer, or stopped mid-way) are written out by serial, so the command can look
each one up in the database.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
# The case number (caseapp.bench.http.NUMBER: that module is not imported here).
NUMBER = re.compile(r"YC\d{4}-\d{6}")
CASE_LINK = re.compile(r'href="/staff/cases/(YC\d{4}-\d{6})"')
PRIVATE_LINK = re.compile(r'href="[^"]*/p/([^"/?#]+)"')
NEXT_PAGE = re.compile(r'rel="next" href="([^"]+)"')
ACTION = re.compile(r'action="/staff/cases/[^/"]+/act/([a-z-]+)"')
SELECT = re.compile(r'<select[^>]*name="([a-z_]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option([^>]*)value="([^"]*)"')
LEDGER = re.compile(r'href="(/supervisor/ledgers/[^"/?#.]+)"')
FILTERS = ("status", "kind", "category", "department", "channel", "deadline", "legacy")
SEARCH_WORDS = ("圣惠路", "路灯", "公交", "学校门口", "土地", "量子")
# Categories whose default department has demo staff (zjj, cgj) and one that has none.
CATEGORIES = ("road-damage", "gas", "street-light", "sanitation", "bus-stop")
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


class Record:
    """What this Locust process measured, written out once at the end."""

    requests: list[tuple[str, int, float]] = []
    connection_errors: list[str] = []
    task_errors: list[str] = []
    filings: list[tuple[str, str, str]] = []  # (via, serial, number)
    lost: list[tuple[str, str, str]] = []  # (via, serial, why)
    pending: dict[str, str] = {}  # serial -> via, while its answer is awaited
    users: dict[str, int] = {}
    started: float = 0.0
    stopped: float = 0.0
    environment: Any = None


@events.request.add_listener
def _on_request(name: str, response_time: float, response: Any, exception: Any, **_: Any) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    Record.requests.append((name, status, float(response_time)))
    if status == 0:
        Record.connection_errors.append(f"{name}: {exception!r}"[:300])


@events.user_error.add_listener
def _on_user_error(user_instance: Any, exception: Exception, tb: Any, **_: Any) -> None:
    Record.task_errors.append(f"{type(user_instance).__name__}: {exception!r}"[:300])


@events.test_start.add_listener
def _on_test_start(**_: Any) -> None:
    Record.started = time.time()


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    Record.environment = environment


@events.spawning_complete.add_listener
def _on_spawning_complete(user_count: int, **_: Any) -> None:
    runner = Record.environment.runner if Record.environment else None
    Record.users = dict(runner.user_classes_count) if runner else {"all": user_count}


@events.test_stop.add_listener
def _on_test_stop(**_: Any) -> None:
    Record.stopped = time.time()


@events.quitting.add_listener
def _on_quitting(**_: Any) -> None:
    lost = Record.lost + [(via, serial, "stopped") for serial, via in Record.pending.items()]
    results = {
        "started": Record.started,
        "stopped": Record.stopped or time.time(),
        "users": Record.users,
        "requests": Record.requests,
        "connection_errors": Record.connection_errors,
        "task_errors": Record.task_errors,
        "filings": Record.filings,
        "lost": lost,
    }
    with open(os.environ["CASEAPP_LOAD_RESULTS"], "w", encoding="utf-8") as out:
        json.dump(results, out, ensure_ascii=False)


@contextmanager
def awaiting_answer(via: str, serial: str) -> Iterator[None]:
    """While a filing's answer is awaited, it is pending: a user stopped mid-way leaves
    it there, and it is then reported as lost."""
    Record.pending[serial] = via
    yield
    Record.pending.pop(serial, None)


def _serial() -> str:
    return "LT-" + uuid.uuid4().hex[:12]


def _form(fields: dict[str, str] | list[tuple[str, str]]) -> str:
    return urlencode(fields)


def _staff() -> dict[str, list[str]]:
    return json.loads(os.environ.get("CASEAPP_LOAD_STAFF", "{}"))


class Citizen(FastHttpUser):
    """Files a request through the public form as a browser does, then follows it by
    its private link; reads the home and statistics pages on the way."""

    weight = 10
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.tracked: list[str] = []

    @task(3)
    def file_request(self) -> None:
        self.client.get("/", name="GET /")
        category = random.choice(CATEGORIES)  # noqa: S311 (a load mix, not a secret)
        self.client.get("/requests/new", name="GET /requests/new")
        form_path = f"/requests/new?category={category}"
        page = self.client.get(form_path, name="GET /requests/new?category=<code>")
        if page.status_code != 200:
            return
        serial = _serial()
        fields = {
            "kind": "help",
            "title": f"路面和路灯问题 {serial[-4:]}",
            "description": f"红旗西街人行道砖块松动，晚上路灯不亮，老人容易绊倒。（{serial}）",
            "public_location": "红旗西街",
            "citizen_name": "张秀英",
            "citizen_phone": f"138{random.randrange(10**8):08d}",  # noqa: S311
            "notify_by": "sms",
            "consent_privacy": "y",
        }
        text = page.text or ""
        with awaiting_answer("web", serial):
            for confirm, name in (
                ({}, "POST /requests/new?category=<code>"),
                ({"confirm_distinct": "y"}, "POST /requests/new?category=<code> (mine is different)"),
            ):  # fmt: skip
                token = CSRF.search(text)
                if token is None:
                    Record.lost.append(("web", serial, f"no form to post ({name})"))
                    return
                answer = self.client.post(
                    form_path,
                    data=_form({**fields, **confirm, "csrf_token": token.group(1)}),
                    headers=FORM_HEADERS,
                    name=name,
                    allow_redirects=False,
                )
                if answer.status_code in (302, 303):
                    self._filed(serial)
                    return
                if answer.status_code != 200 or "confirm_distinct" not in (answer.text or ""):
                    # Refused (a 4xx, the form shown again with errors): nothing stored;
                    # no answer or a 5xx: perhaps stored, the answer lost.
                    if answer.status_code == 0 or answer.status_code >= 500:
                        Record.lost.append(("web", serial, f"{name}: {answer.status_code}"))
                    return
                text = answer.text or ""
            Record.lost.append(("web", serial, "look-alikes offered after confirming"))

    def _filed(self, serial: str) -> None:
        page = self.client.get("/requests/filed", name="GET /requests/filed")
        number = NUMBER.search(page.text or "") if page.status_code == 200 else None
        key = PRIVATE_LINK.search(page.text or "") if page.status_code == 200 else None
        if number is None or key is None:
            Record.lost.append(("web", serial, f"GET /requests/filed: {page.status_code}"))
            return
        Record.filings.append(("web", serial, number.group(0)))
        opened = self.client.get(f"/p/{key.group(1)}", name="GET /p/<key>", allow_redirects=False)
        if opened.status_code in (302, 303):
            self.tracked.append(number.group(0))
            self._track(number.group(0))

    def _track(self, number: str) -> None:
        self.client.get(f"/track/{number}", name="GET /track/<number>")

    @task(4)
    def track_my_case(self) -> None:
        # A citizen comes to file a request first, and tracks it afterwards.
        if self.tracked:
            self._track(random.choice(self.tracked))  # noqa: S311
        else:
            self.file_request()

    @task(1)
    def read_statistics(self) -> None:
        self.client.get("/stats", name="GET /stats")


class Open311Client(FastHttpUser):
    """A city app on the Open311 API: reads services and requests, files requests with
    its key and looks them up again."""

    weight = 4
    wait_time = between(1, 3)
    prefix = "/open311/v2"

    def on_start(self) -> None:
        self.filed: list[str] = []

    @task(2)
    def read_services(self) -> None:
        self.client.get(f"{self.prefix}/services.json", name="GET /open311/v2/services.json")

    @task(4)
    def read_requests(self) -> None:
        params = random.choice(  # noqa: S311
            [{}, {"status": "open"}, {"service_code": random.choice(CATEGORIES)}]  # noqa: S311
        )
        query = f"?{urlencode(params)}" if params else ""
        self.client.get(f"{self.prefix}/requests.json{query}", name="GET /open311/v2/requests.json")
        if self.filed:
            number = random.choice(self.filed)  # noqa: S311
            self.client.get(
                f"{self.prefix}/requests/{number}.json",
                name="GET /open311/v2/requests/<id>.json",
            )

    @task(2)
    def file_request(self) -> None:
        serial = _serial()
        fields = {
            "api_key": os.environ.get("CASEAPP_LOAD_API_KEY", ""),
            "service_code": random.choice(CATEGORIES),  # noqa: S311
            "description": f"红旗西街人行道砖块松动，老人容易绊倒。（{serial}）",
            "address_string": "红旗西街25号",
            "first_name": "秀英",
            "last_name": "张",
            "phone": f"139{random.randrange(10**8):08d}",  # noqa: S311
        }
        with awaiting_answer("open311", serial):
            answer = self.client.post(
                f"{self.prefix}/requests.json",
                data=_form(fields),
                headers=FORM_HEADERS,
                name="POST /open311/v2/requests.json",
            )
            if answer.status_code == 201:
                try:
                    number = str(json.loads(answer.text or "")[0]["service_request_id"])
                except (ValueError, LookupError, TypeError):
                    Record.lost.append(("open311", serial, "201 without a request id"))
                    return
                Record.filings.append(("open311", serial, number))
                self.filed.append(number)
            elif answer.status_code == 0 or answer.status_code >= 500:
                Record.lost.append(("open311", serial, f"POST: {answer.status_code}"))


class Staff(FastHttpUser):
    """A signed-in member of staff (one of the demo accounts of ``role``). Never signs
    out: signing out ends every session of the account, the other users' too."""

    abstract = True
    role = ""
    queue = "/staff/queue"
    wait_time = between(1, 3)
    _accounts: dict[str, Iterator[str]] = {}

    def on_start(self) -> None:
        if self.role not in Staff._accounts:
            Staff._accounts[self.role] = itertools.cycle(_staff().get(self.role) or [self.role])
        self.username = next(Staff._accounts[self.role])
        self.signed_in = False
        self.filters: list[str] = []
        self._sign_in()

    def _sign_in(self) -> None:
        form = self.client.get("/staff/login", name="GET /staff/login")
        token = CSRF.search(form.text or "") if form.status_code == 200 else None
        if token is None:
            return
        answer = self.client.post(
            "/staff/login",
            data=_form(
                {
                    "csrf_token": token.group(1),
                    "username": self.username,
                    "password": os.environ.get("CASEAPP_LOAD_PASSWORD", ""),
                }
            ),
            headers=FORM_HEADERS,
            name="POST /staff/login",
            allow_redirects=False,
        )
        self.signed_in = answer.status_code in (302, 303)

    def _get(self, path: str, name: str) -> str:
        """The page's text, or "" when it did not answer 200."""
        page = self.client.get(path, name=name)
        return (page.text or "") if page.status_code == 200 else ""

    def _queue_cases(self, path: str, name: str) -> list[str]:
        return CASE_LINK.findall(self._get(path, name))

    def _open_case(self) -> tuple[str, str] | None:
        """A case from the first page of this user's queue, and its page."""
        numbers = self._queue_cases(self.queue, "GET /staff/queue")
        if not numbers:
            return None
        number = random.choice(numbers)  # noqa: S311
        text = self._get(f"/staff/cases/{number}", "GET /staff/cases/<number>")
        return (number, text) if text else None

    def _act(self, number: str, page: str, slug: str, fields: dict[str, str]) -> int:
        """Take the action ``slug`` as its form on ``page`` posts it; a 409 (the case
        changed meanwhile) or a 400 (refused) is an answer like any other."""
        token, version = CSRF.search(page), VERSION.search(page)
        if token is None or version is None:
            return -1
        answer = self.client.post(
            f"/staff/cases/{number}/act/{slug}",
            data=_form({"csrf_token": token.group(1), "version": version.group(1), **fields}),
            headers=FORM_HEADERS,
            name=f"POST /staff/cases/<number>/act/{slug}",
            allow_redirects=False,
        )
        if answer.status_code in (302, 303):
            self.client.get(f"/staff/cases/{number}", name="GET /staff/cases/<number>")
        return answer.status_code

    def _note(self, number: str, page: str) -> None:
        if "note" in ACTION.findall(page):
            text = f"负载测试内部备注 {_serial()}"
            self._act(number, page, "note", {"text": text})

    @task(3)
    def browse_queue(self) -> None:
        if not self.signed_in:
            self._sign_in()
            return
        text = self._get(self.queue, "GET /staff/queue")
        for _ in range(random.randrange(3)):  # noqa: S311
            found = NEXT_PAGE.search(text)
            if found is None:
                break
            text = self._get(html.unescape(found.group(1)), "GET /staff/queue?after=<cursor>")

    @task(2)
    def filter_queue(self) -> None:
        if not self.signed_in:
            return
        if not self.filters:
            page = self._get("/staff/queue?view=all", "GET /staff/queue?view=all")
            for name, options in SELECT.findall(page):
                if name in FILTERS:
                    values = [value for _attrs, value in OPTION.findall(options) if value]
                    self.filters.extend(f"{name}={value}" for value in values[:3])
        if self.filters:
            chosen = random.choice(self.filters)  # noqa: S311
            self._get(f"/staff/queue?view=all&{chosen}", "GET /staff/queue?<filter>")

    @task(1)
    def search(self) -> None:
        if self.signed_in:
            word = random.choice(SEARCH_WORDS)  # noqa: S311
            self._get(
                f"/staff/queue?view=all&{urlencode({'q': word})}", "GET /staff/queue?q=<word>"
            )


class Intake(Staff):
    """Dispatches new cases to the department their category names (or another)."""

    weight = 2
    role = "intake"
    queue = "/staff/queue?view=intake"

    @task(4)
    def dispatch(self) -> None:
        opened = self._open_case() if self.signed_in else None
        if opened is None:
            return
        number, page = opened
        if "dispatch" not in ACTION.findall(page):
            self._note(number, page)
            return
        departments = dict(SELECT.findall(page)).get("department", "")
        options = [(attrs, value) for attrs, value in OPTION.findall(departments) if value]
        chosen = [value for attrs, value in options if "selected" in attrs]
        department = chosen[0] if chosen else random.choice(options)[1] if options else ""  # noqa: S311
        self._act(number, page, "dispatch", {"department": department})


class Lead(Staff):
    """Signs for the department's dispatched cases, for themself or a handler."""

    weight = 1
    role = "lead"
    queue = "/staff/queue?view=department"

    @task(4)
    def sign_for(self) -> None:
        opened = self._open_case() if self.signed_in else None
        if opened is None:
            return
        number, page = opened
        if "sign" not in ACTION.findall(page):
            self._note(number, page)
            return
        # A handler of the department, as a lead names one ("myself" is refused to a
        # lead who is not a handler: a 400, not what is measured here).
        handlers = dict(SELECT.findall(page)).get("handler", "")
        values = [value for _attrs, value in OPTION.findall(handlers) if value] or [""]
        self._act(number, page, "sign", {"handler": random.choice(values)})  # noqa: S311


class Handler(Staff):
    """Works on their own cases: reads them and adds internal notes."""

    weight = 2
    role = "handler"
    queue = "/staff/queue?view=mine"

    @task(4)
    def add_note(self) -> None:
        opened = self._open_case() if self.signed_in else None
        if opened is not None:
            self._note(*opened)


class Supervisor(Staff):
    """Reads the escalation board, scorecards and ledgers; urges a case now and then."""

    weight = 2
    role = "supervisor"
    queue = "/staff/queue?view=all"

    # Whether the navigation offers scorecards and ledgers: a supervisor's does, a
    # responsible leader's does not (those pages answer them 403).
    reads_reports = False

    @task(3)
    def escalation_board(self) -> None:
        if self.signed_in:
            page = self._get("/supervisor/escalations", "GET /supervisor/escalations")
            self.reads_reports = 'href="/supervisor/scorecards"' in page

    @task(2)
    def scorecards(self) -> None:
        if self.signed_in and self.reads_reports:
            self._get("/supervisor/scorecards", "GET /supervisor/scorecards")

    @task(2)
    def ledgers(self) -> None:
        if not (self.signed_in and self.reads_reports):
            return
        links = LEDGER.findall(self._get("/supervisor/ledgers", "GET /supervisor/ledgers"))
        if links:
            self._get(html.unescape(random.choice(links)), "GET /supervisor/ledgers/<code>")  # noqa: S311

    @task(2)
    def urge(self) -> None:
        opened = self._open_case() if self.signed_in else None
        if opened is None:
            return
        number, page = opened
        if "urge" in ACTION.findall(page):
            self._act(number, page, "urge", {"text": f"请加快办理（负载测试 {_serial()}）"})
        else:
            self._note(number, page)
