"""Filing a case (submit), following one, and the helpers every case action shares."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from caseapp.extensions import db
from caseapp.models import (
    Case,
    CaseFollower,
    CaseParticipant,
    Category,
    DeadlinePolicy,
    Department,
    User,
)
from caseapp.models.enums import (
    CONFIDENTIAL_KINDS,
    CaseKind,
    CaseStatus,
    Channel,
    Clock,
    EventAction,
    NotifyBy,
    Priority,
)
from caseapp.models.types import utcnow
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import lifecycle
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, NotFound, ValidationFailed
from caseapp.services.filing.attachments import (
    CheckedFile,
    attach_files,
    remove_files,
    store_files,
)
from caseapp.services.filing.numbers import next_case_number
from caseapp.services.filing.validation import (
    clean_text,
    has_bidi_controls,
    has_control_characters,
    has_visible_characters,
    normalise_email,
    normalise_phone,
)
from caseapp.services.messages import N_, Message
from caseapp.services.notices import citizen as notices
from caseapp.services.transactions import one_transaction
from caseapp.workflow.citizen_access import may_be_followed
from caseapp.workflow.deadlines import snapshot_terms
from caseapp.workflow.lifecycle import SUBMIT_WHO

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
NAME_MAX = 80
ADDRESS_MAX = 300
CITIZEN_CHANNELS = frozenset({Channel.WEB, Channel.API})


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_access_key() -> tuple[str, str]:
    """A private-link key and its stored hash."""
    key = secrets.token_urlsafe(24)
    return key, hash_key(key)


def now_or(now: datetime | None) -> datetime:
    return now or utcnow()


def local_year(moment: datetime) -> int:
    return moment.astimezone(ZoneInfo(current_app.config["CITY_TIMEZONE"])).year


def earliest_received_at() -> datetime:
    """The earliest date received a filing may give (``FILING_EARLIEST_DATE``, local
    midnight): older letters are not filed as new requests, and a year 1 would number
    the case YC1-000001."""
    day = date.fromisoformat(current_app.config.get("FILING_EARLIEST_DATE", "2000-01-01"))
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(current_app.config["CITY_TIMEZONE"]))


def department_by_id(department_id: int | None) -> Department:
    department = db.session.get(Department, department_id) if department_id else None
    if department is None or department.retired_at is not None:
        raise ValidationFailed("no such department", {"department": N_("Choose a department.")})
    return department


def add_participant(case: Case, user: User | None) -> None:
    """Let ``user`` keep seeing ``case`` (first-responsible person, past handlers)."""
    if user is None:
        return
    exists = db.session.get(CaseParticipant, (case.id, user.id)) if case.id else None
    pending = any(
        isinstance(o, CaseParticipant) and o.case_id == case.id and o.user_id == user.id
        for o in db.session.new
    )
    if exists is None and not pending:
        db.session.add(CaseParticipant(case_id=case.id, user_id=user.id))


@dataclass
class NewCase:
    """What a filing carries, from the web form, the staff intake form or the API."""

    kind: CaseKind
    category_code: str
    title: str
    description: str
    channel: Channel = Channel.WEB
    priority: Priority = Priority.NORMAL
    address: str = ""
    public_location: str = ""
    latitude: float | None = None
    longitude: float | None = None
    citizen_name: str = ""
    citizen_phone: str = ""
    citizen_email: str = ""
    citizen_postal_address: str = ""
    notify_by: NotifyBy = NotifyBy.NONE
    consent_privacy: bool = False
    consent_public: bool = False
    anonymous: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    language: str = "zh_CN"
    received_at: datetime | None = None  # staff: the day a letter arrived
    district_department_id: int | None = None


def check_filing(
    new: NewCase, category: Category | None, staff: bool, now: datetime
) -> dict[str, Any]:
    """Every reason the filing is refused, by field (one ``ValidationFailed``); else the
    cleaned values."""
    errors: dict[str, str | Message] = {}
    clean: dict[str, Any] = {}
    if category is None or category.retired_at is not None:
        errors["category"] = N_("Choose a category.")
    title = clean_text(new.title)
    if not title:
        errors["title"] = N_("This field is required.")
    elif len(title) > TITLE_MAX:
        errors["title"] = N_("At most 200 characters.")
    elif has_control_characters(title) or "\n" in title or has_bidi_controls(title):
        errors["title"] = N_("Contains characters that are not allowed.")
    elif not has_visible_characters(title):
        errors["title"] = N_("The title shows no letters or digits.")
    description = clean_text(new.description)
    if not description:
        errors["description"] = N_("This field is required.")
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = N_("At most 4,000 characters.")
    elif has_control_characters(description):
        errors["description"] = N_("Contains characters that are not allowed.")
    for name, limit in (("address", ADDRESS_MAX), ("public_location", 120)):
        value = clean_text(getattr(new, name))
        # The road is one line (shown publicly, and in the API's address); an address a
        # letter gives may take several.
        one_line = name == "public_location"
        if len(value) > limit or has_control_characters(value) or (one_line and "\n" in value):
            errors[name] = N_("Too long, or contains characters that are not allowed.")
        clean[name] = value
    if new.latitude is not None and not -90 <= new.latitude <= 90:
        errors["latitude"] = N_("Latitude is between -90 and 90.")
    if new.longitude is not None and not -180 <= new.longitude <= 180:
        errors["longitude"] = N_("Longitude is between -180 and 180.")
    if (new.latitude is None) != (new.longitude is None):
        errors["longitude" if new.longitude is None else "latitude"] = N_(
            "Give both latitude and longitude, or neither."
        )

    anonymous = new.anonymous and category is not None and category.anonymous_allowed
    if new.anonymous and not anonymous:
        errors["anonymous"] = N_("This category does not take anonymous requests.")
    name = clean_text(new.citizen_name)
    if not anonymous and not name:
        errors["citizen_name"] = N_("This field is required.")
    elif refused := _name_refusal(name):
        errors["citizen_name"] = refused
    elif name and not has_visible_characters(name):
        errors["citizen_name"] = N_("The name shows no letters.")
    phone = ""
    if new.citizen_phone.strip():
        phone = normalise_phone(new.citizen_phone, mobile_only=not staff) or ""
        if not phone:
            errors["citizen_phone"] = (
                N_("Not a valid Chinese phone number.")
                if staff
                else N_("Not a valid Chinese mobile number (11 digits, starting with 1).")
            )
    postal = clean_text(new.citizen_postal_address)
    if len(postal) > ADDRESS_MAX or has_control_characters(postal):
        errors["citizen_postal_address"] = N_("At most 300 characters.")
    if not anonymous and not new.citizen_phone.strip() and "citizen_phone" not in errors:
        if not staff:
            errors["citizen_phone"] = N_("This field is required.")
        elif not postal:
            errors["citizen_phone"] = N_("Give a phone number or a postal address.")
    email = ""
    if new.citizen_email.strip():
        email = normalise_email(new.citizen_email) or ""
        if not email:
            errors["citizen_email"] = N_("Not a valid email address.")
    if new.notify_by is NotifyBy.SMS and not (phone and phone.startswith("1")):
        errors.setdefault("notify_by", N_("SMS notices need a mobile number."))
    if new.notify_by is NotifyBy.EMAIL and not email:
        errors.setdefault("notify_by", N_("Email notices need an email address."))
    if not staff and not new.consent_privacy:
        errors["consent_privacy"] = N_("Please agree to the privacy notice.")
    received_at = new.received_at or now
    if received_at.tzinfo is None:
        errors["received_at"] = N_("Give the date received with its time zone.")
    elif received_at > now:
        errors["received_at"] = N_("The date received cannot be in the future.")
    elif received_at < earliest_received_at():
        errors["received_at"] = Message(
            N_("The date received cannot be before %(day)s."),
            day=current_app.config.get("FILING_EARLIEST_DATE", "2000-01-01"),
        )
    elif new.received_at is not None and not staff:
        errors["received_at"] = N_("Only staff set the date received.")
    district_id = new.district_department_id
    if district_id is not None:
        district = db.session.get(Department, district_id)
        if district is None or district.retired_at is not None:
            errors["district"] = N_("Choose a district from the list.")
    if staff and new.channel in CITIZEN_CHANNELS:
        errors["channel"] = N_(
            "Staff file requests received at the window, by phone, by letter or on a visit."
        )
    if errors:
        raise ValidationFailed("the request was not filed", errors)
    clean.update(
        title=title,
        description=description,
        anonymous=anonymous,
        name="" if anonymous else name,
        phone=phone,
        email=email,
        postal=postal,
        received_at=received_at,
        district_id=district_id,
    )
    return clean


@one_transaction
def submit_case(
    new: NewCase,
    actor: Actor,
    now: datetime | None = None,
    files: Sequence[CheckedFile] = (),
) -> tuple[Case, str]:
    """File a case with its checked attachments; return it and the private link's key
    (shown once, stored hashed). Nothing is kept if any part fails."""
    now = now_or(now)
    written: list[Path] = []
    try:
        case, key = file_case(new, actor, now)
        if files:
            written = store_files(files, current_app.config["UPLOAD_DIR"])
            attach_files(
                case,
                files,
                # Photos may show faces and homes: never public by default, whatever the
                # consent to show the request's text.
                public=False,
                uploaded_by_id=actor.user.id if actor.user else None,
                event_id=None,
                now=now,
            )
        lifecycle.commit()
    except Exception:
        db.session.rollback()
        remove_files(written)
        raise
    if files:  # put back a file a failing filing of the same photo removed meanwhile
        store_files(files, current_app.config["UPLOAD_DIR"])
    return case, key


def file_case(
    new: NewCase,
    actor: Actor,
    now: datetime | None = None,
    *,
    policy: DeadlinePolicy | None = None,
    review_of: Case | None = None,
) -> tuple[Case, str]:
    """``submit_case`` without the commit, for actions that file a case as part of theirs.

    A review (复查) or re-review (复核) of the petition decision ``review_of`` is filed
    linked to it, one level up, under ``policy`` (the review policy) instead of its
    category's; it is a review of a live decision, never a repeat of a finished matter.
    """
    now = now_or(now)
    staff = actor.kind == "staff"
    if not lifecycle.capacities_without_case(actor) & SUBMIT_WHO:
        raise NotAllowed("only intake clerks and supervisors file cases for citizens")
    channel = Channel.API if actor.kind == "api" else new.channel
    if actor.kind == "citizen" and channel is not Channel.WEB:
        channel = Channel.WEB
    category = db.session.scalar(
        sa.select(Category).where(Category.service_code == new.category_code)
    )
    clean = check_filing(new, category, staff, now)
    assert category is not None
    key, key_hash = new_access_key()
    number, seq = next_case_number(local_year(clean["received_at"]))
    case = Case(
        number=number,
        number_year=local_year(clean["received_at"]),
        number_seq=seq,
        kind=new.kind,
        category=category,
        priority=new.priority,
        channel=channel,
        status=CaseStatus.NEW,
        language=new.language if new.language in ("zh_CN", "en") else "zh_CN",
        title=clean["title"],
        description=clean["description"],
        address=clean["address"],
        public_location=clean["public_location"],
        latitude=new.latitude,
        longitude=new.longitude,
        answers=dict(new.answers),
        anonymous=clean["anonymous"],
        citizen_name=clean["name"],
        citizen_phone=clean["phone"],
        citizen_email=clean["email"],
        citizen_postal_address=clean["postal"],
        notify_by=new.notify_by,
        consent_privacy_at=now if new.consent_privacy else None,
        consent_public=new.consent_public,
        identity_confidential=new.kind in CONFIDENTIAL_KINDS,
        access_key_hash=key_hash,
        created_by_id=actor.user.id if staff and actor.user else None,
        first_responsible_id=actor.user.id if staff and actor.user else None,
        received_at=clean["received_at"],
        created_at=now,
        updated_at=now,
        policy_terms=snapshot_terms((policy or category.policy).terms),
        repeat_of_final=review_of is None
        and new.kind is CaseKind.PETITION
        and _finished_before(category, clean["phone"]),
        review_of_id=review_of.id if review_of is not None else None,
        review_level=review_of.review_level + 1 if review_of is not None else 0,
    )
    db.session.add(case)
    math = deadlines.deadline_math()
    deadlines.start_clock(case, Clock.ACCEPT, case.received_at, math)
    deadlines.refresh_summary(case)
    db.session.flush()
    if staff:
        add_participant(case, actor.user)
    event = lifecycle.record_event(
        case,
        EventAction.SUBMIT,
        actor,
        now,
        to_status=CaseStatus.NEW,
        data={"channel": str(channel), "repeat_of_final": case.repeat_of_final},
    )
    db.session.flush()
    accept_by = case.next_deadline_at.isoformat() if case.next_deadline_at else ""
    notices.notify_citizens(case, event, "receipt", {"accept_by": accept_by})
    return case, key


def _finished_before(category: Category, phone: str) -> bool:
    """Whether this citizen has a petition in this category that finished re-review."""
    if not phone:
        return False
    return bool(
        db.session.scalar(
            sa.select(Case.id).where(
                Case.kind == CaseKind.PETITION,
                Case.category_id == category.id,
                Case.citizen_phone == phone,
                Case.review_level >= 2,
                Case.status.in_((CaseStatus.RESOLVED, CaseStatus.CLOSED)),
            )
        )
    )


def case_by_number(number: str) -> Case:
    case = db.session.scalar(sa.select(Case).where(Case.number == number))
    if case is None:
        raise NotFound(f"no case {number}")
    return case


def case_by_access_key(key: str) -> tuple[Case, CaseFollower | None]:
    """The case a private link opens, and the follower it belongs to (None: the filer)."""
    digest = hash_key(key)
    case = db.session.scalar(sa.select(Case).where(Case.access_key_hash == digest))
    if case is not None:
        return case, None
    follower = db.session.scalar(
        sa.select(CaseFollower).where(CaseFollower.access_key_hash == digest)
    )
    if follower is None:
        raise NotFound("no case for that link")
    return follower.case, follower


@dataclass(frozen=True)
class NewFollower:
    """Who follows a case instead of filing it again, and how they want to be told."""

    name: str
    phone: str
    email: str = ""
    notify_by: NotifyBy = NotifyBy.SMS
    language: str = "zh_CN"


def _name_refusal(name: str) -> str | None:
    """Why a person's name (cleaned) cannot be kept — too long, or holding what no name
    holds (control characters, a line break, bidirectional overrides) — or None. The
    filer's and a follower's names follow this one rule."""
    if len(name) > NAME_MAX:
        return N_("At most 80 characters.")
    if has_control_characters(name) or "\n" in name or has_bidi_controls(name):
        return N_("Contains characters that are not allowed.")
    return None


def _check_follower(new: NewFollower) -> tuple[str, str, str]:
    """The follower's name, phone and email, cleaned; ValidationFailed with every reason."""
    errors: dict[str, str] = {}
    name = clean_text(new.name)
    if not name or not has_visible_characters(name):
        errors["citizen_name"] = N_("This field is required.")
    elif refused := _name_refusal(name):
        errors["citizen_name"] = refused
    phone = normalise_phone(new.phone, mobile_only=True) if new.phone else None
    if not phone:
        errors["citizen_phone"] = N_(
            "Not a valid Chinese mobile number (11 digits, starting with 1)."
        )
    email = normalise_email(new.email) if new.email.strip() else ""
    if email is None:
        errors["citizen_email"] = N_("Not a valid email address.")
    if new.notify_by is NotifyBy.EMAIL and not email:
        errors["notify_by"] = N_("Email notices need an email address.")
    if errors:
        raise ValidationFailed("not followed", errors)
    return name, phone or "", email or ""


def check_follow(case: Case, actor: Actor) -> None:
    """Refuse following ``case``: the table's rule (worked statuses, a citizen with no
    standing on the case yet), and never a petition, a report or a case whose identity
    is confidential."""
    if not may_be_followed(case.kind, case.identity_confidential):
        raise NotAllowed(f"{case.number} is not one a citizen may follow")
    lifecycle.check_action(case, EventAction.FOLLOW, actor, None)


@one_transaction
def follow_case(
    case: Case,
    actor: Actor,
    new: NewFollower,
    *,
    offered: Collection[str],
    now: datetime | None = None,
) -> tuple[str, CaseFollower]:
    """A further citizen follows an open case instead of filing it again; returns their
    private-link key and their follower row. Only a case the duplicate finder offered
    to them (``offered``: the numbers it showed this citizen), and never a petition, a
    report or a case whose identity is confidential (``workflow.citizen_access``)."""
    now = now_or(now)
    if case.number not in offered:
        raise NotAllowed(f"{case.number} was not offered to this citizen to follow")
    check_follow(case, actor)
    name, phone, email = _check_follower(new)
    key, key_hash = new_access_key()
    follower = CaseFollower(
        name=name,
        phone=phone,
        email=email,
        notify_by=new.notify_by,
        language=new.language if new.language in ("zh_CN", "en") else "zh_CN",
        access_key_hash=key_hash,
        created_at=now,
    )

    def effects() -> None:
        case.followers.append(follower)

    lifecycle.apply_action(
        case, EventAction.FOLLOW, actor, now, expected_version=None, effects=effects
    )
    lifecycle.commit()
    return key, follower


def follower_of(case: Case, actor: Actor) -> CaseFollower:
    """The follower row ``actor`` acts as on ``case``; NotAllowed for anyone else."""
    follower = next((f for f in case.followers if f.id == actor.follower_id), None)
    if actor.kind != "citizen" or actor.follower_id is None or follower is None:
        raise NotAllowed("only a follower of the case")
    return follower


@one_transaction
def unfollow_case(case: Case, actor: Actor, now: datetime | None = None) -> None:
    """A follower stops following: they are told nothing more, their private link stops
    working, and their name and phone leave the case."""
    now = now_or(now)
    follower = follower_of(case, actor)

    def effects() -> None:
        case.followers.remove(follower)

    lifecycle.apply_action(
        case,
        EventAction.UNFOLLOW,
        actor,
        now,
        expected_version=None,
        data={"follower_id": follower.id},
        effects=effects,
    )
    lifecycle.commit()


@one_transaction
def choose_notices(case: Case, actor: Actor, notify_by: NotifyBy) -> CaseFollower:
    """A follower chooses how they are told of progress (their own row, not the case)."""
    follower = follower_of(case, actor)
    if notify_by is NotifyBy.SMS and not follower.phone.startswith("1"):
        raise ValidationFailed("no mobile", {"notify_by": N_("SMS notices need a mobile number.")})
    if notify_by is NotifyBy.EMAIL and not follower.email:
        raise ValidationFailed(
            "no email", {"notify_by": N_("Email notices need an email address.")}
        )
    follower.notify_by = notify_by
    db.session.commit()
    return follower
