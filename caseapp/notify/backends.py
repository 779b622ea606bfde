"""Where notices go: the log (default), an SMTP server, an SMS gateway over HTTP."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from caseapp.notify.texts import DEFAULT_SMS_TEMPLATE_IDS, render, shown_params

log = logging.getLogger("caseapp.notify")


@dataclass(frozen=True)
class Notice:
    """One notice as the worker hands it to a backend."""

    idempotency_key: str
    channel: str  # "sms" or "email"
    recipient: str
    template: str
    language: str
    params: Mapping[str, Any]


class DeliveryError(Exception):
    """The backend could not deliver now; the worker retries later."""


class Backend(Protocol):
    def send(self, notice: Notice) -> None: ...


class LogBackend:
    """Writes the notice to the log (the worker prints it on the console); the default,
    and what the demo uses: a new user sees the SMS with their code arrive. The
    recipient is shown by its last characters only."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    def send(self, notice: Notice) -> None:
        subject, text = render(notice.template, notice.language, notice.params)
        to = f"…{notice.recipient[-4:]}" if len(notice.recipient) > 4 else "…"
        log.info("%s to %s · %s · %s", notice.channel.upper(), to, subject, text)
        self.sent.append(notice)


class SmtpBackend:
    """Email through an SMTP server; the idempotency key goes in the Message-ID."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def send(self, notice: Notice) -> None:
        subject, text = render(notice.template, notice.language, notice.params)
        message = EmailMessage()
        message["From"] = self.config["MAIL_FROM"]
        message["To"] = notice.recipient
        message["Subject"] = subject
        domain = str(self.config["MAIL_FROM"]).rpartition("@")[2] or "caseapp.local"
        message["Message-ID"] = f"<{notice.idempotency_key}@{domain}>"
        message.set_content(text)
        try:
            with smtplib.SMTP(
                self.config["MAIL_SERVER"], self.config["MAIL_PORT"], timeout=20
            ) as smtp:
                if self.config.get("MAIL_USE_TLS"):
                    # The server's certificate and name are checked (ASVS 12.3.2): the
                    # default context verifies, smtplib's own does not.
                    smtp.starttls(context=ssl.create_default_context())
                if self.config.get("MAIL_USERNAME"):
                    smtp.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"] or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP: {exc}") from exc


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


class HttpSmsBackend:
    """An SMS gateway taking a registered template id with parameters, as JSON over
    HTTP(S); the idempotency key lets the gateway drop a repeat."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.url = config["SMS_GATEWAY_URL"]
        self.token = config.get("SMS_GATEWAY_TOKEN") or ""
        self.sign_name = config.get("SMS_SIGN_NAME", "")
        self.template_ids = {**DEFAULT_SMS_TEMPLATE_IDS, **(config.get("SMS_TEMPLATE_IDS") or {})}
        if not self.url:
            raise ValueError("SMS_BACKEND=http needs SMS_GATEWAY_URL")
        if urllib.parse.urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError("SMS_GATEWAY_URL must be an http:// or https:// address")

    def payload(self, notice: Notice) -> dict[str, Any]:
        return {
            "phone": notice.recipient,
            "sign_name": self.sign_name,
            "template_id": self.template_ids[notice.template],
            "params": shown_params(notice.language, notice.params),
            "idempotency_key": notice.idempotency_key,
        }

    def send(self, notice: Notice) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(self.payload(notice), ensure_ascii=False).encode(),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": notice.idempotency_key,
            },
            method="POST",
        )
        try:
            # The configured gateway; its scheme is checked (http or https) above. A
            # redirect is not followed (the message and the token go nowhere else): it
            # is an answer of 3xx, a delivery error.
            with _NO_REDIRECTS.open(request, timeout=20) as response:
                if response.status >= 300:
                    raise DeliveryError(f"SMS gateway answered {response.status}")
        except OSError as exc:
            raise DeliveryError(f"SMS gateway: {exc}") from exc


def backend_for(channel: str, config: Mapping[str, Any]) -> Backend:
    """The configured backend of a channel."""
    name = config["SMS_BACKEND"] if channel == "sms" else config["MAIL_BACKEND"]
    if name == "log":
        return LogBackend()
    if name == "smtp" and channel == "email":
        return SmtpBackend(config)
    if name == "http" and channel == "sms":
        return HttpSmsBackend(config)
    raise ValueError(f"no {name!r} backend for {channel}")
