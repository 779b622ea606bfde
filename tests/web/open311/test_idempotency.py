"""An Open311 client may retry a filing whose answer it lost (issue 20, point 3): under
the ``Idempotency-Key`` it sent, a retry answers the first filing (201, the same id,
token and notice, ``Idempotent-Replayed: true``) and files nothing, even when retries
arrive at once; the same key with other parameters is a 422; keys of different API keys
never collide; a key that is not 1 to 100 printable ASCII characters is a 400."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from caseapp.extensions import db
from caseapp.models import ApiFiling, Case, CaseNumberSequence, OutboxMessage
from caseapp.services import open311
from caseapp.services.admin import api_keys
from tests.web.open311.conftest import API, parse_xml
from tests.web.open311.test_endpoints import FILING

KEY = "3f6c2a9e-5b1d-4c7e-9a1f-2d8b6e4c0a17"


def post(
    client: FlaskClient,
    api_key: str,
    key: str | None = KEY,
    fmt: str = "json",
    **changes: str,
) -> TestResponse:
    headers = {} if key is None else {"Idempotency-Key": key}
    data = {**FILING, **changes, "api_key": api_key}
    return client.post(f"{API}/requests.{fmt}", data=data, headers=headers)


def stored(app: Flask) -> dict[str, object]:
    """What filing writes: cases, their API provenance, receipts, the numbers given."""
    with app.app_context():
        found = {
            "cases": sorted(db.session.scalars(sa.select(Case.number))),
            "filings": db.session.execute(
                sa.select(ApiFiling.api_key_id, ApiFiling.idempotency_key).order_by(ApiFiling.id)
            ).all(),
            "receipts": db.session.scalar(
                sa.select(sa.func.count()).where(OutboxMessage.template == "receipt")
            ),
            "numbers given": db.session.scalar(
                sa.select(sa.func.sum(CaseNumberSequence.last_value))
            ),
        }
        db.session.remove()
    return found


@pytest.fixture
def other_key(app: Flask, api_key: str) -> str:
    with app.app_context():
        _row, raw = api_keys.create_key("另一个App", None)
        db.session.remove()
    return raw


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_retry_gets_the_first_answer_and_files_nothing(
    app: Flask, client: FlaskClient, api_key: str, fmt: str
) -> None:
    first = post(client, api_key, fmt=fmt)
    assert first.status_code == 201, first.data
    assert "Idempotent-Replayed" not in first.headers
    before = stored(app)
    assert len(before["cases"]) == 1 and before["receipts"] == 1  # type: ignore[arg-type]
    again = post(client, api_key, fmt=fmt)
    assert again.status_code == 201, again.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.data == first.data  # the same id, token and notice
    if fmt == "xml":
        request = parse_xml(again.data).find("request")
        assert request is not None
        number, token = request.findtext("service_request_id"), request.findtext("token")
    else:
        answer = json.loads(again.data)[0]
        number, token = answer["service_request_id"], answer["token"]
    with app.app_context():
        kept = db.session.execute(
            sa.select(Case.number, ApiFiling.token).join(ApiFiling, ApiFiling.case_id == Case.id)
        ).all()
        assert kept == [(number, token)]
        db.session.remove()
    assert stored(app) == before


def test_the_replayed_notice_is_the_first_one_even_after_the_case_moved_on(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    """The notice names the open request the filing may repeat, as found when it was
    filed: a retry after another look-alike was filed still names only that one."""
    post(client, api_key, key=None)  # an open request the next one may repeat
    first = post(client, api_key, locale="en")
    assert "may repeat the open request" in json.loads(first.data)[0]["service_notice"]
    post(client, api_key, key=None)  # a third look-alike, filed after the first answer
    again = post(client, api_key, locale="en")
    assert again.data == first.data


def test_the_same_parameters_in_another_order_are_the_same_filing(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    first = post(client, api_key)
    reordered = dict(reversed(list({**FILING, "api_key": api_key}.items())))
    again = client.post(
        f"{API}/requests.json?api_key={api_key}",  # the API key may move to the query
        data={k: v for k, v in reordered.items() if k != "api_key"},
        headers={"Idempotency-Key": KEY},
    )
    assert again.status_code == 201 and again.data == first.data
    assert len(stored(app)["cases"]) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "change",
    [
        {"description": "解放路井盖缺失，夜间行人容易踩空！"},
        {"phone": "13912345678"},
        {"address_string": "解放路12号门前"},  # a parameter the first one left out
        {"locale": "en"},  # the citizen's language: the notices' language
    ],
)
def test_the_same_key_with_other_parameters_is_422_and_files_nothing(
    app: Flask, client: FlaskClient, api_key: str, fmt: str, change: dict[str, str]
) -> None:
    assert post(client, api_key).status_code == 201
    before = stored(app)
    refused = post(client, api_key, fmt=fmt, **change)
    assert refused.status_code == 422, refused.data
    if fmt == "xml":
        error = parse_xml(refused.data).find("error")
        assert error is not None and error.findtext("code") == "422"
        assert "Idempotency-Key" in (error.findtext("description") or "")
    else:
        [error] = json.loads(refused.data)
        assert error["code"] == 422 and "Idempotency-Key" in error["description"]
    assert stored(app) == before


def test_the_422_is_explained_in_the_answers_language(client: FlaskClient, api_key: str) -> None:
    post(client, api_key)
    english = post(client, api_key, phone="13912345678", locale="en")
    assert json.loads(english.data)[0]["description"] == (
        "This Idempotency-Key was used for a different request; send a new key with a new request."
    )


def test_parameters_a_filing_ignores_do_not_make_another_request(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    first = post(client, api_key)
    again = post(client, api_key, device_id="phone-7", unknown="x")
    assert again.status_code == 201 and again.data == first.data


def test_keys_of_different_api_keys_never_collide(
    app: Flask, client: FlaskClient, api_key: str, other_key: str
) -> None:
    one = json.loads(post(client, api_key).data)[0]
    other = post(client, other_key)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert json.loads(other.data)[0]["service_request_id"] != one["service_request_id"]
    # ... and with other parameters under the other API key, no 422 either.
    assert post(client, other_key, key="second", phone="13912345678").status_code == 201
    filings = stored(app)["filings"]
    assert [k for _id, k in filings] == [KEY, KEY, "second"]  # type: ignore[union-attr]


def test_without_a_key_every_filing_files(app: Flask, client: FlaskClient, api_key: str) -> None:
    answers = [post(client, api_key, key=None) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert len(set(stored(app)["cases"])) == 2  # type: ignore[arg-type]


def test_a_refused_filing_does_not_use_its_key(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    assert post(client, api_key, service_code="no-such-service").status_code == 400
    assert stored(app)["filings"] == []
    assert post(client, api_key).status_code == 201


@pytest.mark.parametrize(
    "key",
    ["", "   ", "x" * 101, "ключ-1", "a\tb", "line\x7fend", "键"],
    ids=["empty", "spaces", "101 characters", "cyrillic", "tab", "DEL", "chinese"],
)
def test_a_key_that_is_not_printable_ascii_is_400_and_files_nothing(
    app: Flask, client: FlaskClient, api_key: str, key: str
) -> None:
    before = stored(app)
    refused = post(client, api_key, key=key, locale="en")
    assert refused.status_code == 400, refused.data
    descriptions = [e["description"] for e in json.loads(refused.data)]
    assert descriptions == ["Idempotency-Key: Give 1 to 100 printable ASCII characters."]
    assert stored(app) == before


def test_a_bad_key_is_named_with_every_other_reason(client: FlaskClient, api_key: str) -> None:
    refused = post(client, api_key, key="", service_code="no-such-service")
    names = sorted(e["description"].split(":")[0] for e in json.loads(refused.data))
    assert names == ["Idempotency-Key", "service_code"]


@pytest.mark.parametrize("key", ["x" * 100, "~ !", "a", "  padded  "])
def test_keys_of_1_to_100_printable_characters_are_taken(
    app: Flask, client: FlaskClient, api_key: str, key: str
) -> None:
    assert post(client, api_key, key=key).status_code == 201
    again = post(client, api_key, key=key.strip())  # HTTP drops the spaces around a value
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert stored(app)["filings"][0][1] == key.strip()  # type: ignore[index]


def test_retries_arriving_at_once_file_once(app: Flask, api_key: str) -> None:
    """Eight clients send the same filing under one key at the same moment: one files,
    seven get its answer. On PostgreSQL the look-ups all find nothing and the unique key
    stops the seven; on SQLite the writers take turns."""
    barrier = threading.Barrier(8)
    answers: list[TestResponse] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def retry() -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=30)
            answer = post(client, api_key)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
            return
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a retry did not finish in 60 s"
    assert Counter(a.status_code for a in answers) == {201: 8}, [a.data for a in answers]
    assert Counter(a.headers.get("Idempotent-Replayed") for a in answers) == {None: 1, "true": 7}
    assert len({a.data for a in answers}) == 1
    found = stored(app)
    assert len(found["cases"]) == 1 and found["receipts"] == 1  # type: ignore[arg-type]
    assert found["numbers given"] == 1  # the seven cases rolled back gave their numbers back


def test_a_retry_that_misses_the_first_in_its_look_up_is_stopped_by_the_unique_key(
    app: Flask, client: FlaskClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the concurrent test may or may not hit, made certain: the look-up before
    filing finds nothing (as when the first filing commits just after it), the case is
    filed, the insert of the key fails, and the first answer comes back."""
    first = post(client, api_key)
    looked_up = open311._filed_under
    calls: list[str] = []

    def late(key, idempotency_key):  # type: ignore[no-untyped-def]
        calls.append(idempotency_key)
        return None if len(calls) == 1 else looked_up(key, idempotency_key)

    monkeypatch.setattr(open311, "_filed_under", late)
    before = stored(app)
    again = post(client, api_key)
    assert again.status_code == 201 and again.data == first.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert calls == [KEY, KEY]  # the look-up after the failed insert found the first
    assert stored(app) == before  # the second case and its number were rolled back
