"""caseapp configuration, read from the environment.

Every setting a city would want to change is an environment variable; the defaults are
for the local demo run. ``TestConfig`` is what the test suite uses.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CASEAPP_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def cookie_name(name: str, secure: bool) -> str:
    """``__Host-name`` for a cookie sent over https only, else ``name`` (a browser drops
    a __Host- cookie that is not Secure, so plain http keeps the bare name)."""
    return f"__Host-{name}" if secure else name


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'caseapp.sqlite3'}"


def demo_secret_key() -> str:
    """A secret key generated once into ``instance/`` for the local demo run."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    # --- core -------------------------------------------------------------------------
    # Outside the local demo a SECRET_KEY must be given; create_app refuses to start
    # without one. CASEAPP_DEMO=1 selects DemoConfig (see caseapp.create_app).
    DEMO = False
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or default_database_url()
    SQLITE_BUSY_TIMEOUT_MS = _int("SQLITE_BUSY_TIMEOUT_MS", 15000)
    DEBUG = False
    TESTING = False
    # Logs go to stdout: "json" (one object a line, for a log store) or "text".
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # --- the city ---------------------------------------------------------------------
    CITY_NAME_ZH = os.environ.get("CITY_NAME_ZH", "运城市")
    CITY_NAME_EN = os.environ.get("CITY_NAME_EN", "Yuncheng")
    CITY_TIMEZONE = os.environ.get("CITY_TIMEZONE", "Asia/Shanghai")
    CASE_NUMBER_PREFIX = os.environ.get("CASE_NUMBER_PREFIX", "YC")
    CASE_NUMBER_DIGITS = max(6, _int("CASE_NUMBER_DIGITS", 6))
    # The department that reviews petition decisions where a department has no parent.
    PETITION_BUREAU_CODE = os.environ.get("PETITION_BUREAU_CODE", "xfj")
    # The deadline policy (its code) of petition review and re-review cases: 30 calendar
    # days to decide by default; created on first use where it is missing, then edited in
    # the admin like any other policy.
    REVIEW_POLICY_CODE = os.environ.get("REVIEW_POLICY_CODE", "petition-review")
    # The earliest date received a filing may give (staff filing an old letter).
    FILING_EARLIEST_DATE = os.environ.get("FILING_EARLIEST_DATE", "2000-01-01")

    # --- languages --------------------------------------------------------------------
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = CITY_TIMEZONE
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "caseapp" / "translations")
    LANGUAGES = ("zh_CN", "en")

    # --- sessions and cookies -----------------------------------------------------------
    # Secure cookies by default; the local demo over plain http turns this off. A secure
    # cookie is named with the __Host- prefix: browsers then keep it only if it came over
    # https, for this host alone (no Domain) and the whole site (Path=/), so no sibling
    # site or plain-http page can plant or overwrite it (ASVS 5.0 3.3.1, 3.3.3).
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    SESSION_COOKIE_NAME = cookie_name("caseapp_session", SESSION_COOKIE_SECURE)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Flask-Login's "remember me" cookie: never set (the sign-in offers no such choice),
    # held to the same flags should it ever be.
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_NAME = cookie_name("caseapp_remember", SESSION_COOKIE_SECURE)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    STAFF_IDLE_TIMEOUT_MINUTES = _int("STAFF_IDLE_TIMEOUT_MINUTES", 30)
    # However active, a staff session ends this long after its sign-in.
    STAFF_SESSION_MAX_HOURS = _int("STAFF_SESSION_MAX_HOURS", 12)
    WTF_CSRF_TIME_LIMIT = 3600 * 8
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 55 * 1024 * 1024)
    # A body without files (every form but the uploads, an Open311 filing): 1 MiB.
    MAX_FORM_BODY = _int("MAX_FORM_BODY", 1024 * 1024)
    # Set when the app runs behind a reverse proxy that sets X-Forwarded-*.
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)

    # --- passwords ----------------------------------------------------------------------
    # argon2id parameters (RFC 9106 second recommended option by default).
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST_KIB = _int("ARGON2_MEMORY_COST_KIB", 64 * 1024)
    ARGON2_PARALLELISM = _int("ARGON2_PARALLELISM", 4)

    # --- rate limits --------------------------------------------------------------------
    # memory:// for one process; redis://127.0.0.1:6379/0 shares limits between hosts.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Keys in the store start with this: several cities (or a test) may share one Redis.
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "caseapp")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Failed sign-ins per username, whichever address they come from, and per address;
    # the address limit is the looser one, since one address (an office behind a proxy)
    # may be every staff member's.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "30 per 5 minutes")
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "5 per 15 minutes")
    RATELIMIT_PUBLIC_FORM = os.environ.get("RATELIMIT_PUBLIC_FORM", "20 per hour")
    RATELIMIT_TRACK = os.environ.get("RATELIMIT_TRACK", "10 per 10 minutes")
    # SMS tracking codes per request and per phone (whatever the request), besides the
    # address limit above. Counted from the codes sent in the database, so they hold on
    # every host and across restarts; the page tells citizens these figures.
    RATELIMIT_TRACKING_CODE_CASE = os.environ.get("RATELIMIT_TRACKING_CODE_CASE", "3 per hour")
    RATELIMIT_TRACKING_CODE_PHONE = os.environ.get("RATELIMIT_TRACKING_CODE_PHONE", "6 per day")
    RATELIMIT_PRIVATE_LINK = os.environ.get("RATELIMIT_PRIVATE_LINK", "30 per minute")
    # Open311: reads per address; filings per key and, whatever the key, per address.
    RATELIMIT_OPEN311_READ = os.environ.get("RATELIMIT_OPEN311_READ", "120 per minute")
    RATELIMIT_OPEN311_POST_KEY = os.environ.get("RATELIMIT_OPEN311_POST_KEY", "600 per hour")
    RATELIMIT_OPEN311_POST_ADDRESS = os.environ.get(
        "RATELIMIT_OPEN311_POST_ADDRESS", "120 per hour"
    )

    # --- scorecards -----------------------------------------------------------------------
    # How long each process keeps a period's staff scorecards and trend (the public page
    # reads the daily totals the worker keeps).
    SCORECARDS_MAX_AGE_SECONDS = _int("SCORECARDS_MAX_AGE_SECONDS", 300)
    # How long each process keeps a user's "due today" and "overdue" counts in the
    # navigation (approvals are always counted fresh).
    NAVIGATION_COUNTS_MAX_AGE_SECONDS = _int("NAVIGATION_COUNTS_MAX_AGE_SECONDS", 30)

    # --- Open311 API ----------------------------------------------------------------------
    # Coordinates in public answers are rounded to this many decimals (3: about 100 m),
    # so a request's point does not give away a home.
    OPEN311_COORDINATE_DECIMALS = _int("OPEN311_COORDINATE_DECIMALS", 3)
    OPEN311_CONTACT = os.environ.get("OPEN311_CONTACT", "12345 市民热线")
    OPEN311_KEY_SERVICE = os.environ.get(
        "OPEN311_KEY_SERVICE", "Ask the city's administrators for a key (/admin/api-keys)."
    )

    # --- uploads ------------------------------------------------------------------------
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))

    # --- notices ------------------------------------------------------------------------
    # Backends: "log" (default: written to the log only), "smtp", "http" (SMS gateway).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "caseapp@localhost")
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "log")
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL")
    SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN")
    SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "运城市民诉求")
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 8)
    # How long notices claimed by a worker that died wait before another worker sends them.
    OUTBOX_LEASE_SECONDS = _int("OUTBOX_LEASE_SECONDS", 300)
    # Registered SMS template ids, as JSON: {"receipt": "SMS_123", ...}; defaults otherwise.
    SMS_TEMPLATE_IDS = json.loads(os.environ.get("SMS_TEMPLATE_IDS", "{}"))
    WORKER_INTERVAL_SECONDS = _int("WORKER_INTERVAL_SECONDS", 10)


class DemoConfig(Config):
    """The local demo run: plain http on 127.0.0.1, a generated secret key."""

    DEMO = True
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    SESSION_COOKIE_NAME = cookie_name("caseapp_session", SESSION_COOKIE_SECURE)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_NAME = cookie_name("caseapp_remember", SESSION_COOKIE_SECURE)


class TestConfig(Config):
    """The test suite: the database comes from DATABASE_URL (SQLite file by default)."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{INSTANCE_DIR / 'test.sqlite3'}"
    )
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = cookie_name("caseapp_session", SESSION_COOKIE_SECURE)
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_NAME = cookie_name("caseapp_remember", SESSION_COOKIE_SECURE)
    RATELIMIT_STORAGE_URI = "memory://"
    # Cheap hashing keeps the suite fast; production parameters are tested on their own.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST_KIB = 8 * 1024
    ARGON2_PARALLELISM = 1
    UPLOAD_DIR = str(INSTANCE_DIR / "test-uploads")
    WTF_CSRF_ENABLED = True
    # Every test sees the figures of its own cases (the keeping has its own test).
    SCORECARDS_MAX_AGE_SECONDS = 0
    NAVIGATION_COUNTS_MAX_AGE_SECONDS = 0
