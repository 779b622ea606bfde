"""The Open311 GeoReport v2 API's use cases (DESIGN §9): the services and their
definitions, the public list of requests, filing a request through the web form's own
service, and tokens.

What the API lists follows a public rule of its own: petitions and reports are never
listed; a request's description, answer and media link only where the citizen consented
to show the request; never a name, phone, email, exact address or key; coordinates
rounded to about a hundred metres. Answers are plain values; the web layer writes them
as JSON or XML.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from caseapp.extensions import db
from caseapp.models import ApiFiling, ApiKey, Case, Category, CategoryQuestion
from caseapp.models.enums import (
    CONFIDENTIAL_KINDS,
    WORKED_STATUSES,
    CaseKind,
    CaseStatus,
    NotifyBy,
    QuestionType,
)
from caseapp.services.access import tracking as citizen
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import lifecycle
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import DomainError, NotFound, ValidationFailed
from caseapp.services.filing import cases, catalog, duplicates
from caseapp.services.filing.validation import clean_text, has_control_characters
from caseapp.services.messages import N_, Message
from caseapp.services.transactions import one_transaction
from caseapp.workflow.visibility import public_cases

# The specification's limits: at most 1,000 requests in one answer, a window of at most
# 90 days (the last 90 days when none is given).
MAX_REQUESTS = 1000
MAX_WINDOW = timedelta(days=90)
TITLE_LENGTH = 40
MEDIA_URL_MAX = 500
STRING_ANSWER_MAX = 200
TEXT_ANSWER_MAX = 1000
ISO_8601 = N_("Give a date and time in ISO 8601 with its offset, e.g. 2026-11-27T09:00:00+08:00.")

OPEN = "open"
CLOSED = "closed"
# Open while staff still work on it; closed once answered, refused or withdrawn.
CLOSED_STATUSES = frozenset(CaseStatus) - WORKED_STATUSES

# The names the API gives the filing's fields, for its error messages.
API_FIELD_NAMES = {
    "category": "service_code",
    "citizen_name": "first_name",
    "citizen_phone": "phone",
    "citizen_email": "email",
    "notify_by": "phone",
    "address": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "anonymous": "first_name",
    "title": "description",
}


def language_of(locale: str) -> str:
    """The language a ``locale`` parameter asks for: ``en…`` is English, else Chinese."""
    return "en" if locale.lower().startswith("en") else "zh_CN"


# --- services and their definitions -------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """One entry of ``GET services``."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


@dataclass(frozen=True)
class AttributeValue:
    key: str
    name: str


@dataclass(frozen=True)
class Attribute:
    """One extra question of a service, as the specification describes an attribute."""

    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: tuple[AttributeValue, ...]


@dataclass(frozen=True)
class ServiceDefinition:
    service_code: str
    attributes: tuple[Attribute, ...]


def _asked(category: Category) -> list[CategoryQuestion]:
    return [q for q in category.questions if q.retired_at is None]


def list_services(locale: str = "zh_CN") -> list[Service]:
    """Every category the public may file in, grouped as on the web form."""
    lang = language_of(locale)
    categories = db.session.scalars(
        sa.select(Category)
        .where(Category.retired_at.is_(None))
        .options(selectinload(Category.questions))
        .order_by(Category.group_zh, Category.sort_order, Category.id)
    ).all()
    return [
        Service(
            service_code=c.service_code,
            service_name=c.name(lang),
            description=c.description(lang),
            metadata=bool(_asked(c)),
            type="realtime",
            keywords=",".join(c.keywords.split()),
            group=c.group(lang),
        )
        for c in categories
    ]


DATATYPE_DESCRIPTIONS = {
    QuestionType.NUMBER: N_("A number."),
    QuestionType.DATETIME: N_("A date and time in ISO 8601 with its offset."),
    QuestionType.STRING: N_("At most 200 characters."),
    QuestionType.TEXT: N_("At most 1,000 characters."),
}


def service_definition(service_code: str, locale: str = "zh_CN") -> ServiceDefinition:
    """The extra questions (attributes) a service asks; NotFound for an unknown code."""
    category = catalog.active_category(service_code) if usable_identifier(service_code) else None
    if category is None:
        raise NotFound(f"no service {service_code!r}")
    lang = language_of(locale)
    attributes = tuple(
        Attribute(
            variable=True,
            code=q.code,
            datatype=q.datatype.value,
            required=q.required,
            datatype_description=DATATYPE_DESCRIPTIONS.get(q.datatype, ""),
            order=position,
            description=q.label(lang),
            values=tuple(AttributeValue(key, name) for key, name in q.choice_names(lang)),
        )
        for position, q in enumerate(_asked(category), start=1)
    )
    return ServiceDefinition(category.service_code, attributes)


# --- the public list of requests ----------------------------------------------------------


@dataclass(frozen=True)
class PublicRequest:
    """One service request as the public may see it (DESIGN §9)."""

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    # Where the case stands in caseapp's own lifecycle; the answer's service_notice.
    stage: CaseStatus
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str | None
    lat: float | None
    long: float | None
    media_url: str | None
    # The specification's fields this city does not keep.
    address_id: None = None
    zipcode: None = None


@dataclass(frozen=True)
class RequestQuery:
    """What ``GET requests`` asks for, checked."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] = frozenset()


# Ids, codes and tokens are short printable words; anything else names nothing (and
# never reaches the database, which refuses some characters outright).
IDENTIFIER_MAX = 64
# Dates the city's records can hold; outside them a window's arithmetic would overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def usable_identifier(value: str) -> bool:
    """Whether ``value`` could be an id, a service code or a token at all."""
    return 0 < len(value) <= IDENTIFIER_MAX and value.isprintable()


def _listed(value: str | None) -> tuple[str, ...]:
    parts = (p.strip() for p in (value or "").split(","))
    return tuple(dict.fromkeys(p for p in parts if p))


def parse_datetime(value: str, name: str) -> datetime:
    """An ISO 8601 date and time with its offset (``Z`` or ``+08:00``), 1970 to 9000."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed(f"{name} is not a date and time", {name: ISO_8601})
    if not EARLIEST <= moment < LATEST:
        raise ValidationFailed(
            f"{name} is out of range", {name: N_("Give a date between 1970 and 9000.")}
        )
    return moment


def request_query(params: Mapping[str, str], now: datetime) -> RequestQuery:
    """Check the parameters of ``GET requests``. With ``service_request_id`` the others
    are ignored, as the specification says; without dates, the last 90 days."""
    ids = _listed(params.get("service_request_id"))
    if ids:
        if len(ids) > MAX_REQUESTS:
            raise ValidationFailed(
                "too many ids",
                {"service_request_id": Message(N_("At most %(count)s ids."), count=MAX_REQUESTS)},
            )
        return RequestQuery(ids=ids)
    statuses = frozenset(s.lower() for s in _listed(params.get("status")))
    if statuses - {OPEN, CLOSED}:
        raise ValidationFailed(
            "unknown status", {"status": N_("The status is open, closed, or both.")}
        )
    start = parse_datetime(params["start_date"], "start_date") if params.get("start_date") else None
    end = parse_datetime(params["end_date"], "end_date") if params.get("end_date") else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_WINDOW
    if end is None:
        end = start + MAX_WINDOW
    if end < start:
        raise ValidationFailed(
            "end before start", {"end_date": N_("The end date is before the start date.")}
        )
    if end - start > MAX_WINDOW:
        raise ValidationFailed(
            "window too wide", {"end_date": N_("Ask for at most 90 days at a time.")}
        )
    return RequestQuery(
        service_codes=_listed(params.get("service_code")),
        start=start,
        end=end,
        statuses=statuses,
    )


def find_requests(query: RequestQuery, locale: str = "zh_CN") -> list[PublicRequest]:
    """The requests the query names, newest first, at most 1,000, under the public rule."""
    select = public_cases()
    if query.ids:
        select = select.where(Case.number.in_([i for i in query.ids if usable_identifier(i)]))
    else:
        assert query.start is not None and query.end is not None
        select = select.where(Case.received_at >= query.start, Case.received_at <= query.end)
        if query.service_codes:
            codes = [c for c in query.service_codes if usable_identifier(c)]
            select = select.where(
                Case.category_id.in_(sa.select(Category.id).where(Category.service_code.in_(codes)))
            )
        if query.statuses == {OPEN}:
            select = select.where(Case.status.in_(sorted(WORKED_STATUSES)))
        elif query.statuses == {CLOSED}:
            select = select.where(Case.status.in_(sorted(CLOSED_STATUSES)))
    select = (
        select.options(
            joinedload(Case.category),
            joinedload(Case.lead_department),
            joinedload(Case.api_filing),
            selectinload(Case.clocks),
        )
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(MAX_REQUESTS)
    )
    found = db.session.scalars(select).unique().all()
    return _public(found, language_of(locale))


def request_by_id(service_request_id: str, locale: str = "zh_CN") -> PublicRequest:
    """One request under the public rule; NotFound for a petition, a report or none."""
    found = find_requests(RequestQuery(ids=(service_request_id.strip(),)), locale)
    if not found:
        raise NotFound(f"no public request {service_request_id}")
    return found[0]


def _public(found: Sequence[Case], lang: str) -> list[PublicRequest]:
    if not found:
        return []
    math_ = deadlines.deadline_math()
    zone = ZoneInfo(current_app.config["CITY_TIMEZONE"])
    decimals = current_app.config["OPEN311_COORDINATE_DECIMALS"]
    return [_public_request(case, lang, math_, zone, decimals) for case in found]


def _rounded(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


def _public_request(
    case: Case, lang: str, math_: deadlines.DeadlineMath, zone: ZoneInfo, decimals: int
) -> PublicRequest:
    assert case.kind not in CONFIDENTIAL_KINDS
    shown = case.consent_public
    department = case.lead_department
    expected = citizen.expected_dates(case, math_).resolve_by
    filing = case.api_filing
    return PublicRequest(
        service_request_id=case.number,
        status=CLOSED if case.status in CLOSED_STATUSES else OPEN,
        status_notes=(case.public_answer or None) if shown else None,
        service_name=case.category.name(lang),
        service_code=case.category.service_code,
        description=case.description if shown else case.category.name(lang),
        agency_responsible=department.name(lang) if department else None,
        stage=case.status,
        requested_datetime=case.received_at.astimezone(zone),
        updated_datetime=case.updated_at.astimezone(zone),
        expected_datetime=expected.astimezone(zone) if expected else None,
        address=case.public_location or None,
        lat=_rounded(case.latitude, decimals),
        long=_rounded(case.longitude, decimals),
        media_url=(filing.media_url or None) if shown and filing else None,
    )


# --- filing a request ---------------------------------------------------------------------


@dataclass
class ApiRequest:
    """The parameters of ``POST requests`` (unknown ones are not kept)."""

    service_code: str = ""
    description: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    media_url: str = ""
    # caseapp's own: whether the citizen agreed to show the request's text publicly.
    consent_public: str = ""
    locale: str = "zh_CN"
    # attribute[code] → the values given (several for a multivaluelist).
    attributes: dict[str, list[str]] = field(default_factory=dict)

    ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")

    @classmethod
    def from_params(cls, params: Iterable[tuple[str, str]]) -> ApiRequest:
        """From the body's pairs; a later value of a field wins."""
        filing = cls()
        known = {f.name for f in fields(cls)} - {"attributes"}
        for name, value in params:
            if not isinstance(name, str) or not isinstance(value, str):
                continue  # a part with no usable name, or a file where text belongs
            if name in known:
                setattr(filing, name, value)
                continue
            match = cls.ATTRIBUTE.match(name)
            if match:
                filing.attributes.setdefault(match.group(1), []).append(value)
        return filing


@dataclass(frozen=True)
class Filed:
    """What ``POST requests`` answers; ``replayed``: the answer of an earlier filing
    under the same Idempotency-Key, nothing filed now."""

    service_request_id: str
    token: str
    service_notice: str | Message
    account_id: None = None
    replayed: bool = False


# A client's Idempotency-Key: 1 to 100 printable ASCII characters (space to tilde).
IDEMPOTENCY_KEY = re.compile(r"[ -~]{1,100}")
IDEMPOTENCY_KEY_FIELD = "Idempotency-Key"


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was sent before with other parameters (HTTP 422)."""


def check_idempotency_key(value: str | None) -> str | None:
    """The key as given, without the spaces around it (HTTP drops them); None when
    none was sent; ValidationFailed when it is empty, too long or not printable ASCII."""
    if value is None:
        return None
    key = value.strip(" \t")
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed(
            "not an idempotency key",
            {IDEMPOTENCY_KEY_FIELD: N_("Give 1 to 100 printable ASCII characters.")},
        )
    return key


def request_digest(filing: ApiRequest) -> str:
    """The SHA-256 of the filing's parameters, whatever their order in the body
    (unknown parameters and the api_key are not among them)."""
    canonical = json.dumps(asdict(filing), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _yes(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _coordinate(value: str, name: str, errors: dict[str, Any]) -> float | None:
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors[name] = N_("Not a number.")
        return None
    return number


def _media_url(value: str, errors: dict[str, Any]) -> str:
    url = value.strip()
    if url and (
        len(url) > MEDIA_URL_MAX
        or not re.match(r"^https?://[^\s/]+\S*$", url)
        or has_control_characters(url)
    ):
        errors["media_url"] = N_("Give an http or https address of at most 500 characters.")
        return ""
    return url


def check_answers(category: Category, given: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The answers to ``category``'s questions, checked against them the way the web
    form checks its own fields; answers to questions it does not ask are not kept."""
    errors: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for question in _asked(category):
        name = f"attribute[{question.code}]"
        values = [v.strip() for v in given.get(question.code, []) if v.strip()]
        if not values:
            if question.required:
                errors[name] = N_("This field is required.")
            continue
        keys = {c["key"] for c in question.choices}
        kind = question.datatype
        if kind is QuestionType.MULTIVALUELIST:
            chosen = list(dict.fromkeys(values))
            if not set(chosen) <= keys:
                errors[name] = N_("Not one of the values the service lists.")
            answers[question.code] = chosen
            continue
        if len(values) > 1:
            errors[name] = N_("Give one value.")
            continue
        value = values[0]
        if kind is QuestionType.SINGLEVALUELIST and value not in keys:
            errors[name] = N_("Not one of the values the service lists.")
        elif kind is QuestionType.NUMBER and not _is_number(value):
            errors[name] = N_("Not a number.")
        elif kind is QuestionType.DATETIME and not _is_datetime(value):
            errors[name] = ISO_8601
        else:
            limit = TEXT_ANSWER_MAX if kind is QuestionType.TEXT else STRING_ANSWER_MAX
            text = clean_text(value)
            if len(text) > limit or has_control_characters(text):
                errors[name] = N_("Too long, or contains characters that are not allowed.")
            value = text
        answers[question.code] = value
    if errors:
        raise ValidationFailed("the request was not filed", errors)
    return answers


def _is_number(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _is_datetime(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def filing_title(description: str) -> str:
    """A title for staff lists: the description's first line, shortened."""
    first = clean_text(description).split("\n", 1)[0].strip()
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"


def _api_errors(error: ValidationFailed) -> ValidationFailed:
    """The filing's reasons under the names the API gives its fields."""
    renamed: dict[str, Any] = {}
    for name, reason in error.field_errors.items():
        renamed.setdefault(API_FIELD_NAMES.get(name, name), reason)
    return ValidationFailed(error.message, renamed)


@one_transaction
def file_request(
    filing: ApiRequest,
    key: ApiKey,
    now: datetime | None = None,
    *,
    idempotency_key: str | None = None,
) -> Filed:
    """File a request for a citizen through the web form's own service (validation,
    deadlines, receipt notice), remembering the key, a token and the media link. The
    key holder has the citizen's agreement to the privacy notice, as its terms require.
    An open request it may repeat is named in the notice for the client, and staff see
    it on the case to merge.

    With an ``idempotency_key`` (the client's Idempotency-Key header, as sent), a
    filing this API key made under it before is answered again instead (``replayed``);
    IdempotencyKeyReused if that filing had other parameters. Two filings under one key
    arriving at once are told apart by the unique key, not by the look-up: the second
    one's insert fails, its case is rolled back, and it answers the first."""
    now = cases.now_or(now)
    errors: dict[str, Any] = {}
    digest = request_digest(filing)
    try:
        idempotency_key = check_idempotency_key(idempotency_key)
    except ValidationFailed as error:
        errors.update(error.field_errors)
        idempotency_key = None
    if idempotency_key is not None:
        earlier = _filed_under(key, idempotency_key)
        if earlier is not None:
            return _answer_again(earlier, digest)
    code = filing.service_code.strip()
    category = catalog.active_category(code) if usable_identifier(code) else None
    if category is None:
        errors["service_code"] = N_("No such service.")
    latitude = _coordinate(filing.lat, "lat", errors)
    longitude = _coordinate(filing.long, "long", errors)
    if (latitude is None or longitude is None) and not (
        filing.address_string.strip() or filing.address_id.strip()
    ):
        errors.setdefault("lat", N_("Give lat and long, or an address_string."))
    media_url = _media_url(filing.media_url, errors)
    answers: dict[str, Any] = {}
    if category is not None:
        try:
            answers = check_answers(category, filing.attributes)
        except ValidationFailed as error:
            errors.update(error.field_errors)
    family, given = filing.last_name.strip(), filing.first_name.strip()
    wide = family.isascii() and given.isascii()
    name = f"{given} {family}".strip() if wide else family + given
    phone, email = filing.phone.strip(), filing.email.strip()
    new = cases.NewCase(
        kind=CaseKind.HELP,
        category_code=code,
        title=filing_title(filing.description),
        description=filing.description,
        address=filing.address_string or filing.address_id,
        latitude=latitude,
        longitude=longitude,
        citizen_name=name,
        citizen_phone=phone,
        citizen_email=email,
        notify_by=NotifyBy.SMS if phone else NotifyBy.EMAIL if email else NotifyBy.NONE,
        consent_privacy=True,
        consent_public=_yes(filing.consent_public),
        anonymous=not (name or phone) and category is not None and category.anonymous_allowed,
        answers=answers,
        language=language_of(filing.locale),
    )
    try:
        # The web form's own checks, so that one answer names every reason at once.
        cases.check_filing(new, category, staff=False, now=now)
    except ValidationFailed as error:
        for field_name, reason in _api_errors(error).field_errors.items():
            errors.setdefault(field_name, reason)
    if errors:
        raise ValidationFailed("the request was not filed", errors)
    assert category is not None
    matches = duplicates.possible_duplicates(
        category.id,
        new.title,
        new.description,
        public_location=new.address,
        latitude=latitude,
        longitude=longitude,
    )
    token = secrets.token_urlsafe(18)
    try:
        case, _key = cases.file_case(new, Actor.api(), now)
        notice = _notice_params(case, [m.case.number for m in matches])
        db.session.add(
            ApiFiling(
                case_id=case.id,
                api_key_id=key.id,
                token=token,
                media_url=media_url,
                created_at=now,
                idempotency_key=idempotency_key,
                request_digest=digest if idempotency_key is not None else None,
                notice_params=notice if idempotency_key is not None else None,
            )
        )
        lifecycle.commit()
    except ValidationFailed as error:
        db.session.rollback()
        raise _api_errors(error) from None
    except sa.exc.IntegrityError:
        # A filing under the same key got in first (its transaction committed while
        # this one waited): this one's case, number included, is rolled back.
        db.session.rollback()
        earlier = _filed_under(key, idempotency_key) if idempotency_key is not None else None
        if earlier is None:
            raise
        return _answer_again(earlier, digest)
    except Exception:
        db.session.rollback()
        raise
    return Filed(case.number, token, _filing_notice(notice))


def _filed_under(key: ApiKey, idempotency_key: str) -> tuple[ApiFiling, str] | None:
    """The filing ``key`` made under ``idempotency_key``, with its case's number."""
    found = db.session.execute(
        sa.select(ApiFiling, Case.number)
        .join(Case, Case.id == ApiFiling.case_id)
        .where(ApiFiling.api_key_id == key.id, ApiFiling.idempotency_key == idempotency_key)
    ).first()
    return None if found is None else (found[0], found[1])


def _answer_again(earlier: tuple[ApiFiling, str], digest: str) -> Filed:
    """The first answer of a filing, for a retry with the same parameters."""
    filing, number = earlier
    if filing.request_digest != digest:
        raise IdempotencyKeyReused(
            "the Idempotency-Key was used with other parameters",
            reason=N_(
                "This Idempotency-Key was used for a different request; "
                "send a new key with a new request."
            ),
        )
    # Set with every key (a filing without one is never answered again).
    notice = _filing_notice({**(filing.notice_params or {}), "number": number})
    return Filed(number, filing.token, notice, replayed=True)


def _notice_params(case: Case, repeats: list[str]) -> dict[str, str]:
    """What the filing's notice says: its number, when it will be accepted or refused,
    the open requests it may repeat."""
    accept_by = case.next_deadline_at
    zone = ZoneInfo(current_app.config["CITY_TIMEZONE"])
    when = accept_by.astimezone(zone).isoformat(timespec="minutes") if accept_by else ""
    return {"number": case.number, "when": when, "repeats": ", ".join(repeats)}


def _filing_notice(params: Mapping[str, str]) -> Message:
    when = params.get("when", "")
    if params.get("repeats"):
        return Message(
            N_(
                "Received as %(number)s; it will be accepted or refused by %(when)s. "
                "It may repeat the open request %(repeats)s; if so, staff will merge them."
            ),
            number=params["number"],
            when=when,
            repeats=params["repeats"],
        )
    return Message(
        N_("Received as %(number)s; it will be accepted or refused by %(when)s."),
        number=params["number"],
        when=when,
    )


def request_for_token(token: str) -> tuple[str, str]:
    """The request a token stands for, as (service_request_id, token); NotFound else."""
    token = token.strip()
    found = None
    if usable_identifier(token):
        found = db.session.execute(
            sa.select(Case.number, ApiFiling.token)
            .join(ApiFiling, ApiFiling.case_id == Case.id)
            .where(ApiFiling.token == token, Case.kind.not_in(sorted(CONFIDENTIAL_KINDS)))
        ).first()
    if found is None:
        raise NotFound("no such token")
    return found[0], found[1]
