"""Outgoing email against a real SMTP server on a free local port (aiosmtpd): what arrives, login, STARTTLS, and
failures that say what went wrong without naming the recipient. `SmtpServer` and `smtp_server` serve the reminder
tests too."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app import mail
from app.config import Settings, get_settings
from tests.conftest import make_test_settings

# The login tests' server takes a password without TLS (it has no certificate); aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@dataclass
class Received:
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        return self.message.get_content().replace("\r\n", "\n")


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it accepts, or gives `refuse` (an SMTP reply) instead."""

    received: list[Received] = field(default_factory=list)
    refuse: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(recipients=list(envelope.rcpt_tos), message=message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox

    @property
    def received(self) -> list[Received]:
        return self.inbox.received

    def settings(self, database_url: str, **overrides: Any) -> Settings:
        """Settings that send through this server (plain SMTP: the test server has no TLS)."""
        return make_test_settings(
            database_url, **{"smtp_host": self.host, "smtp_port": self.port, "smtp_starttls": False, **overrides}
        )

    def use_in_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point the process's settings (the CLI's) at this server, for the length of the test."""
        monkeypatch.setenv("SMTP_HOST", self.host)
        monkeypatch.setenv("SMTP_PORT", str(self.port))
        monkeypatch.setenv("SMTP_STARTTLS", "false")
        get_settings.cache_clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_smtp(**controller_options: Any) -> Iterator[SmtpServer]:
    """A local SMTP server for the length of a fixture: `yield from serve_smtp()`."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **controller_options)
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=port, inbox=inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    yield from serve_smtp()


def _only(username: str, password: str):
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            username.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


@pytest.fixture
def smtp_server_with_login() -> Iterator[SmtpServer]:
    yield from serve_smtp(authenticator=_only("mailer", "right-password"), auth_required=True, auth_require_tls=False)


def test_send_delivers_a_plain_text_message(smtp_server, database_url):
    settings = smtp_server.settings(database_url, smtp_from="audit@council.example")
    mail.send(settings, to="wes@council.example", subject="Recommendations to follow up", body="Line one\nLine two")
    (received,) = smtp_server.received
    assert received.recipients == ["wes@council.example"]
    assert received.message["From"] == "audit@council.example"
    assert received.message["To"] == "wes@council.example"
    assert received.message["Subject"] == "Recommendations to follow up"
    assert received.message["Message-ID"].endswith("@council.example>")
    assert received.message.get_content_type() == "text/plain"
    assert received.body == "Line one\nLine two\n"


def test_send_logs_in_when_a_username_is_set(smtp_server_with_login, database_url):
    settings = smtp_server_with_login.settings(database_url, smtp_username="mailer", smtp_password="right-password")
    mail.send(settings, to="wes@council.example", subject="S", body="B")
    assert len(smtp_server_with_login.received) == 1


def test_a_refused_login_says_which_settings_to_check(smtp_server_with_login, database_url):
    settings = smtp_server_with_login.settings(database_url, smtp_username="mailer", smtp_password="wrong")
    with pytest.raises(mail.MailError, match=r"refused the login \(SMTP 535\): check SMTP_USERNAME and SMTP_PASSWORD"):
        mail.send(settings, to="wes@council.example", subject="S", body="B")
    assert smtp_server_with_login.received == []


def test_a_server_that_requires_login_refuses_a_message_without_one(smtp_server_with_login, database_url):
    with pytest.raises(mail.MailError, match=r"SMTP 530"):
        mail.send(smtp_server_with_login.settings(database_url), to="wes@council.example", subject="S", body="B")


def test_starttls_is_asked_for_when_configured(smtp_server, database_url):
    # The test server offers no STARTTLS: asking for it must fail rather than send in the clear.
    settings = smtp_server.settings(database_url, smtp_starttls=True)
    with pytest.raises(mail.MailError, match="does not offer STARTTLS"):
        mail.send(settings, to="wes@council.example", subject="S", body="B")
    assert smtp_server.received == []


def test_a_refused_message_names_the_code_but_not_the_recipient(smtp_server, database_url):
    smtp_server.inbox.refuse = "554 5.7.1 <wes@council.example>: message refused"
    with pytest.raises(mail.MailError) as raised:
        mail.send(smtp_server.settings(database_url), to="wes@council.example", subject="S", body="B")
    assert f"The mail server at 127.0.0.1:{smtp_server.port} refused the message (SMTP 554)." == str(raised.value)
    assert "wes" not in str(raised.value)


def test_an_unreachable_server_is_a_mail_error(database_url):
    port = free_port()  # nothing listens there
    settings = make_test_settings(database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    with pytest.raises(mail.MailError, match=f"Could not send through the mail server at 127.0.0.1:{port}"):
        mail.send(settings, to="wes@council.example", subject="S", body="B")


def test_without_a_host_nothing_is_tried(database_url):
    with pytest.raises(mail.MailError, match="SMTP_HOST is not set"):
        mail.send(make_test_settings(database_url), to="wes@council.example", subject="S", body="B")
