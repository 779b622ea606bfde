"""Every label belongs to its own box (issue 18): on the staff case page, with every
action's form opened, and on the citizen's case page, a click on each label reaches
the field it names — focus for a text box or a list, a tick for a checkbox or radio
button — in the same form, never a look-alike box of another form."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from caseapp.models.enums import CaseStatus
from caseapp.services.casework import handling as casework
from caseapp.services.casework import intake
from tests.browser.conftest import new_context, sign_in
from tests.factories import case_in, department, filed, staff

# What a click on a label did, read in the page.
CLICK_EFFECT = """(label) => {
  const target = document.getElementById(label.htmlFor);
  if (!target) return {missing: label.htmlFor};
  const before = target.checked;
  label.click();
  const sameForm = label.closest('form') === target.closest('form');
  if (target.type === 'checkbox' || target.type === 'radio') {
    const ticked = target.checked !== before || target.checked;
    if (target.type === 'checkbox') target.checked = before;  // leave the box as it was
    return {id: target.id, reached: ticked, sameForm};
  }
  return {id: target.id, reached: document.activeElement === target, sameForm};
}"""


def click_every_label(page: Page) -> list[str]:
    """Open every collapsed action, click each visible label: the labels whose click
    did not reach their own field."""
    for summary in page.locator("details > summary").all():
        if summary.is_visible():
            summary.click()
    wrong = []
    labels = page.locator("main label[for]")
    assert labels.count() > 3
    for label in labels.all():
        if not label.is_visible():
            continue
        effect = label.evaluate(CLICK_EFFECT)
        if "missing" in effect or not (effect["reached"] and effect["sameForm"]):
            wrong.append(f"{label.inner_text()!r}: {effect}")
    return wrong


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("handler", CaseStatus.IN_PROGRESS),
        ("intake", CaseStatus.NEW),
        ("supervisor", CaseStatus.RESOLVED),
        ("supervisor", CaseStatus.IN_PROGRESS),
    ],
)
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_each_label_of_the_staff_case_page_reaches_its_own_field(
    app: Flask,
    browser: Browser,
    live_server: str,
    demo_base: None,
    username: str,
    status: CaseStatus,
    lang: str,
) -> None:
    with app.app_context():
        number = case_in(status).number
    context = new_context(browser, live_server)
    page = context.new_page()
    sign_in(page, username, lang)
    page.goto(f"/staff/cases/{number}")
    assert click_every_label(page) == []
    context.close()


def test_each_label_of_the_citizen_s_page_reaches_its_own_field(
    app: Flask, browser: Browser, live_server: str, demo_base: None
) -> None:
    with app.app_context():
        case, key = filed()
        intake.dispatch_case(case, staff("intake"), department("zjj").id, version=None)
        casework.sign_for_case(case, staff("handler"), version=None)
        casework.ask_citizen(case, staff("handler"), "请补充站牌原来的位置。", version=None)
    context = new_context(browser, live_server)
    page = context.new_page()
    page.goto(f"/p/{key}")
    assert click_every_label(page) == []
    context.close()
