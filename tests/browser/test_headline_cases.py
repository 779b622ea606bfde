"""The two headline cases walked end to end through the UI only (issue 18), on the demo
city, as the people who work them: the bus stop at 羊驮寺村 on the rebuilt 圣惠路 and the
343.4 m² of land taken in 1999 for 工农街. Each walk runs in Chinese and in English, on
a desktop and on a 360-px phone; axe finds no violation on any page a person acts on; the handler's
clicks and page loads for the bus stop, from the queue to resolved, are counted.

Nothing is done behind the UI's back: every step is a click, a key or a typed value in
Chromium. The database is only read, to check what the pages said.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, Frame, Locator, Page, expect

from caseapp.extensions import db
from caseapp.models import Attachment, Case, CaseEvent, Ledger, LedgerCategory, LedgerItem
from caseapp.models.enums import CaseKind, CaseStatus, EventAction, LedgerKind
from tests.browser.conftest import DEMO_PASSWORD, new_context

AXE = Axe()
# The handler's bus stop, from the queue to resolved (issue 18's target).
MAX_CLICKS, MAX_LOADS = 6, 3
WALKS = [("zh_CN", "desktop"), ("en", "phone"), ("en", "desktop"), ("zh_CN", "phone")]


@dataclass
class Person:
    """One person's browser tab, counting what they do: a click (a press of a button or
    link, a tick of a box, a choice of an option) and a page load."""

    page: Page
    name: str
    clicks: int = 0
    loads: int = 0
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("framenavigated", self._navigated)

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self.loads += 1

    def click(self, target: Locator) -> None:
        self.clicks += 1
        target.click()

    def tick(self, target: Locator) -> None:
        self.clicks += 1
        target.check()

    def choose(self, target: Locator, value: str) -> None:
        self.clicks += 1
        target.select_option(value)

    def start_counting(self) -> None:
        self.clicks = self.loads = 0

    def check_page(self, what: str, shots: Path) -> None:
        """Save the page for people to look at and let axe read it: no violation of
        any impact."""
        self.page.screenshot(path=shots / f"{what}.png", full_page=True)
        violations = AXE.run(self.page).response["violations"]
        found = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in violations
        ]
        assert not found, f"{what}: {found}"  # none at all, minor ones included
        assert self.page.evaluate("document.documentElement.scrollWidth") <= max(
            self.page.viewport_size["width"], 360
        ), f"{what}: wider than the screen"
        self.seen.append(what)


def person(browser: Browser, base_url: str, name: str, lang: str, device: str) -> Person:
    context = new_context(browser, base_url, phone=device == "phone")
    page = context.new_page()
    page.goto(f"/?lang={lang}")
    return Person(page, name)


def staff(browser: Browser, base_url: str, username: str, lang: str, device: str) -> Person:
    """A member of staff, signed in, on the page sign-in lands on (their queue)."""
    who = person(browser, base_url, username, lang, device)
    who.page.goto("/staff/login")
    who.page.fill("#username", username)
    who.page.fill("#password", DEMO_PASSWORD)
    who.page.locator("main button.primary").click()
    who.page.wait_for_url(lambda url: "/staff/login" not in url)
    expect(who.page.locator("h1")).to_have_count(1)
    who.start_counting()  # from the queue sign-in lands on
    return who


def photo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def file_request(
    citizen: Person, category: str, kind: str, title: str, text: str, place: str, upload: Path
) -> tuple[str, str]:
    """The public form, as a citizen fills it: the case number and the private link."""
    page = citizen.page
    page.goto(f"/requests/new?category={category}")
    page.locator(f"input[name=kind][value={kind}]").check()
    page.fill("#title", title)
    page.fill("#description", text)
    page.fill("#public_location", place)
    page.fill("#citizen_name", "张秀英")
    page.fill("#citizen_phone", "13812345678")
    page.check("#consent_privacy")
    page.set_input_files("#attachments", str(upload))
    page.locator("main form button.primary").click()
    # The answer is a redirect to the confirmation: read it once it has arrived, not the form.
    page.wait_for_url("**/requests/filed")
    expect(page.locator(".private-link a")).to_be_visible()
    found = re.search(r"YC\d{4}-\d{6}", page.content())
    assert found, "no case number on the confirmation page"
    link = page.locator(".private-link a").get_attribute("href")
    assert link
    return found.group(0), link


def case_of(app: Flask, number: str) -> Case:
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case is not None
        db.session.expunge(case)
        return case


def actions_of(app: Flask, number: str) -> list[EventAction]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(CaseEvent.action)
                .join(Case)
                .where(Case.number == number)
                .order_by(CaseEvent.id)
            )
        )


def status_line(who: Person) -> Locator:
    return who.page.locator(".status-line")


def open_action(who: Person, slug: str) -> Locator:
    who.click(who.page.locator(f"#action-{slug} > summary"))
    return who.page.locator(f"#action-{slug}")


def dispatch(intake: Person, number: str, department_code: str, app: Flask) -> None:
    """Intake opens the new case from the queue and sends it where its category goes
    (the department is chosen already)."""
    intake.page.goto(f"/staff/queue?q={number}")
    assert intake.page.url.endswith(f"/staff/cases/{number}")  # the number opens the case
    form = open_action(intake, "dispatch")
    with app.app_context():
        from caseapp.models import Department

        expected = db.session.scalar(
            sa.select(Department.id).where(Department.code == department_code)
        )
    expect(form.locator("select[name=department]")).to_have_value(str(expected))
    intake.click(form.locator("button[type=submit]"))
    expect(status_line(intake)).to_have_class(re.compile("status-line"))
    assert case_of(app, number).status is CaseStatus.DISPATCHED


def write(who: Person, text: str, button: str, *, public: bool = True) -> None:
    """The composer: the text, the confirmation for what the citizen sees, the button
    that says where it goes."""
    who.page.fill("#composer-text", text)
    if public:
        who.tick(who.page.locator("#composer-confirm_public"))
    who.click(who.page.locator(f"#composer button[formaction$='/act/{button}']").first)


def decide(handler: Person) -> None:
    """A petition's written decision: the first kind offered."""
    decision = handler.page.locator("#composer-decision")
    handler.choose(decision, decision.locator("option").nth(1).get_attribute("value") or "")


def rate(citizen: Person, link: str, solved: str, satisfaction: str) -> None:
    citizen.page.goto(link)
    citizen.tick(citizen.page.locator(f"input[name=solved][value={solved}]"))
    citizen.tick(citizen.page.locator(f"input[name=satisfaction][value={satisfaction}]"))
    citizen.click(citizen.page.locator("form[action$='/rate'] button[type=submit]"))


@pytest.mark.parametrize(("lang", "device"), WALKS[:2], ids=["-".join(w) for w in WALKS[:2]])
def test_the_bus_stop_from_the_form_to_a_satisfied_close(
    app: Flask,
    browser: Browser,
    live_server: str,
    demo_city: None,
    tmp_path: Path,
    screenshots: Path,
    lang: str,
    device: str,
) -> None:
    shots = screenshots / f"headline-bus-stop-{lang}-{device}"
    shots.mkdir(exist_ok=True)
    citizen = person(browser, live_server, "citizen", lang, device)
    number, link = file_request(
        citizen,
        "bus-stop",
        "help",
        "圣惠路改造后羊驮寺村公交站没有恢复",
        "圣惠路重修以后，羊驮寺村口原来的公交站牌没有装回来，村里老人要走两公里去坐车。",
        "圣惠路羊驮寺村口",
        photo(tmp_path, "站牌原址.jpg"),
    )
    citizen.check_page("1-filed", shots)

    intake = staff(browser, live_server, "intake", lang, device)
    dispatch(intake, number, "jtj", app)
    intake.check_page("2-dispatched", shots)

    handler = staff(browser, live_server, "handler-jtj", lang, device)
    handler.check_page("3-queue", shots)
    handler.click(handler.page.get_by_role("link", name=number))
    handler.check_page("4-case", shots)
    handler.click(handler.page.locator("#action-sign button[type=submit]"))
    expect(handler.page.locator("#composer")).to_be_visible()
    write(handler, "已在羊驮寺村口恢复公交站点，站牌于本周五装好，3路、12路停靠。", "resolve")
    expect(handler.page.locator(".status-line .status-resolved")).to_be_visible()
    clicks, loads = handler.clicks, handler.loads
    handler.check_page("5-resolved", shots)
    assert clicks <= MAX_CLICKS and loads <= MAX_LOADS, (clicks, loads)
    print(f"\nbus stop, handler from the queue to resolved ({lang}, {device}): "
          f"{clicks} clicks, {loads} page loads")  # fmt: skip

    print(f"bus stop, intake's dispatch: {intake.clicks} clicks, {intake.loads} page loads")
    rate(citizen, link, "yes", "satisfied")
    expect(citizen.page.locator(".status-line")).to_be_visible()
    citizen.check_page("6-closed", shots)
    case = case_of(app, number)
    assert (case.status, case.rating_satisfaction.value) == (CaseStatus.CLOSED, "satisfied")
    assert case.lead_department_id is not None
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count(Attachment.id)).where(Attachment.case_id == case.id)
        ) == 1  # fmt: skip
    assert actions_of(app, number)[-4:] == [
        EventAction.DISPATCH, EventAction.SIGN_FOR, EventAction.RESOLVE, EventAction.RATE,
    ]  # fmt: skip


@pytest.mark.parametrize(("lang", "device"), WALKS[2:], ids=["-".join(w) for w in WALKS[2:]])
def test_the_land_taken_in_1999_from_a_petition_to_the_legacy_ledger(
    app: Flask,
    browser: Browser,
    live_server: str,
    demo_city: None,
    tmp_path: Path,
    screenshots: Path,
    lang: str,
    device: str,
) -> None:
    shots = screenshots / f"headline-land-{lang}-{device}"
    shots.mkdir(exist_ok=True)
    citizen = person(browser, live_server, "citizen", lang, device)
    number, link = file_request(
        citizen,
        "land-compensation",
        "petition",
        "Land taken in 1999 for Gongnong Street never paid for",
        "In 1999 the city took 343.4 m² of our family's land to build 工农街. "
        "The compensation agreed then was never paid.",
        "工农街",
        photo(tmp_path, "agreement-1999.jpg"),
    )
    citizen.check_page("1-filed", shots)
    assert case_of(app, number).kind is CaseKind.PETITION

    intake = staff(browser, live_server, "intake", lang, device)
    dispatch(intake, number, "zrzyj", app)

    handler = staff(browser, live_server, "handler-zrzyj", lang, device)
    handler.page.goto(f"/staff/cases/{number}")
    handler.click(handler.page.locator("#action-sign button[type=submit]"))
    write(handler, "请提供1999年的征地协议或收据照片。", "ask")
    expect(handler.page.locator(".status-line .status-awaiting_citizen")).to_be_visible()

    # The citizen answers with the document asked for.
    citizen.page.goto(link)
    citizen.page.fill("#reply-text", "Here is the 1999 agreement, signed by the village.")
    citizen.page.set_input_files(
        "#reply-attachments, #attachments", str(photo(tmp_path, "receipt.jpg"))
    )
    citizen.check_page("2-answering", shots)
    citizen.click(citizen.page.locator("form[action$='/reply'] button[type=submit]"))
    expect(citizen.page.locator("#reply-text")).to_have_count(0)

    # More time, asked by the handler and decided by the department's lead, who finds
    # it from the badge.
    handler.page.reload()
    form = open_action(handler, "extension")
    form.locator("input[name=days]").fill("30")
    form.locator("textarea[name=reason]").fill("需要调取1999年征地档案。")
    handler.click(form.locator("button[type=submit]"))
    # The case says who decides: the lead of the department (DESIGN §3).
    expect(handler.page.locator(".waiting")).to_contain_text("市自然资源和规划局负责人")

    lead = staff(browser, live_server, "lead-zrzyj", lang, device)
    lead.click(lead.page.locator("a.nav-count[href*='view=approvals']"))
    lead.check_page("3-approvals", shots)
    lead.click(lead.page.get_by_role("link", name=number))
    form = open_action(lead, "decide-extension")
    lead.tick(form.locator("input[name=approve][value=yes]"))
    lead.click(form.locator("button[type=submit]"))
    lead.check_page("4-extension-decided", shots)
    assert EventAction.DECIDE_EXTENSION in actions_of(app, number)

    # The written decision, an unsatisfied rating, the redo, and the close.
    handler.page.reload()
    decide(handler)
    write(handler, "经核查，1999年征地补偿款未足额发放，将于30日内补发。", "resolve")
    handler.check_page("5-decided", shots)
    rate(citizen, link, "no", "unsatisfied")
    assert case_of(app, number).status is CaseStatus.IN_PROGRESS  # back for a redo
    handler.page.reload()
    decide(handler)
    write(handler, "补偿款343.4平方米部分已于本周足额发放到户。", "resolve")
    rate(citizen, link, "yes", "basically_satisfied")
    citizen.check_page("6-closed", shots)
    assert case_of(app, number).status is CaseStatus.CLOSED

    # The supervisor enters it in the legacy-issue ledger, with its category and target.
    supervisor = staff(browser, live_server, "supervisor", lang, device)
    supervisor.page.goto(f"/staff/queue?q={number}")
    form = open_action(supervisor, "legacy")
    with app.app_context():
        land = db.session.scalar(
            sa.select(LedgerCategory.id)
            .join(Ledger)
            .where(Ledger.kind == LedgerKind.LEGACY, LedgerCategory.code == "land")
        )
    supervisor.choose(form.locator("select[name=category]"), str(land))
    target = date.today() + timedelta(days=90)
    form.locator("input[name=target_date]").fill(target.isoformat())
    supervisor.click(form.locator("button[type=submit]"))
    supervisor.check_page("7-legacy", shots)
    with app.app_context():
        item = db.session.scalar(sa.select(LedgerItem).where(LedgerItem.code == number))
        assert item is not None and item.category.code == "land"
        assert item.target_date == target
    team = (intake, handler, lead, supervisor)
    print(f"\nland case, staff from their queues to the ledger ({lang}, {device}): "
          + ", ".join(f"{p.name} {p.clicks} clicks/{p.loads} loads" for p in team)
          + f"; in all {sum(p.clicks for p in team)} clicks, {sum(p.loads for p in team)} loads")  # fmt: skip
    actions = actions_of(app, number)
    assert actions.count(EventAction.RESOLVE) == 2 and actions.count(EventAction.RATE) == 2
    assert {EventAction.ASK_CITIZEN, EventAction.CITIZEN_REPLIES, EventAction.MARK_LEGACY} <= set(
        actions
    )
