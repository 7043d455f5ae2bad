"""Outgoing email over SMTP: one plain-text message per connection, STARTTLS when SMTP_STARTTLS is on, a login
when SMTP_USERNAME is set. A failure is a `MailError` whose message names the server and the SMTP code but never
the recipient or the server's own words (which often quote the address), so callers may log it as it is."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from app.config import Settings

TIMEOUT_SECONDS = 30


class MailError(Exception):
    """The message was not sent."""


Attachment = tuple[str, bytes, str]  # (file name, content, MIME type such as "application/pdf")


def message_build(
    settings: Settings, *, to: str, subject: str, body: str, attachment: Attachment | None = None
) -> EmailMessage:
    """A plain-text message from the service's sender address, with a file attached if given."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(body)
    if attachment is not None:
        name, content, mime = attachment
        main, _, sub = mime.partition("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=name)
    return message


def send(settings: Settings, *, to: str, subject: str, body: str, attachment: Attachment | None = None) -> None:
    """Send one message through SMTP_HOST, or raise MailError saying what went wrong."""
    if not settings.smtp_host:
        raise MailError("SMTP_HOST is not set, so no email can be sent.")
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    message = message_build(settings, to=to, subject=subject, body=body, attachment=attachment)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"The mail server at {server} refused the login (SMTP {exc.smtp_code}): "
            "check SMTP_USERNAME and SMTP_PASSWORD."
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(
            f"The mail server at {server} does not offer STARTTLS or login; check SMTP_STARTTLS and SMTP_USERNAME."
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise MailError(
            f"The mail server at {server} refused the recipient (SMTP {', '.join(map(str, codes))})."
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"The mail server at {server} refused the message (SMTP {exc.smtp_code}).") from exc
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        # Connection refused, timeouts, TLS failures, a dropped connection: the reason names no one.
        raise MailError(f"Could not send through the mail server at {server}: {type(exc).__name__}: {exc}") from exc
