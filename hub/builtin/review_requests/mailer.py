"""Mail through ``HUB_SMTP_URL``: parse the URL, open a session, compose and send one message.

The URL holds the SMTP password, so neither it nor anything parsed from it but the host and
port ever appears in an error message or a log line.

The password goes only over TLS (``smtps://``) or STARTTLS (``?starttls=1``): a plain session
that would log in is refused before connecting, unless the server is on this machine (loopback:
a relay such as Postfix on 127.0.0.1, where nothing crosses a network).

Failures are sorted into two kinds the caller turns into delivery outcomes: ``MailDown`` (the
server is unreachable or answered 4xx: try again later) and ``MailRefused`` (the URL is wrong,
the login was refused, or the server answered 5xx: someone must fix something first).
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

# Well inside the delivery lease (5 minutes by default), so an attempt stuck on a silent server
# ends long before another worker could take the same delivery over and send it a second time.
TIMEOUT_SECONDS = 30.0
_TRUE = ("1", "true", "yes", "on")


class MailError(Exception):
    """Mail could not be sent; ``str()`` is for the operator and never contains the URL."""


class MailDown(MailError):
    """Transient: the server is unreachable, timed out, or answered 4xx."""


class MailRefused(MailError):
    """Permanent until someone acts: a bad ``HUB_SMTP_URL``, a refused login, a 5xx answer."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool = False  # smtps:// (TLS from the first byte)
    starttls: bool = False  # smtp://...?starttls=1
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """How error messages name the server: host and port, never the credentials."""
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://user:pass@host:port``, ``smtps://...`` for TLS, ``?starttls=1`` to upgrade."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise MailRefused("HUB_SMTP_URL is not a valid URL (smtp://user:pass@host:port)") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise MailRefused("HUB_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise MailRefused("HUB_SMTP_URL names no host (smtp://user:pass@host:port)")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in _TRUE
    tls = parts.scheme == "smtps"
    if tls and starttls:
        raise MailRefused("HUB_SMTP_URL: smtps:// is TLS already; drop ?starttls=1")
    return SmtpServer(
        host=parts.hostname, port=port or (465 if tls else 25), tls=tls, starttls=starttls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def on_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: a loopback address (127.0.0.0/8, ::1) or
    ``localhost``. A name is not looked up: a DNS answer must not decide where a password may
    go in the clear."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def plain_login_refusal(server: SmtpServer) -> MailRefused | None:
    """The refusal for a session that would send the password unencrypted: a login over a
    connection that is neither TLS nor STARTTLS, to a server not on loopback. None if safe."""
    if not server.user or server.tls or server.starttls or on_loopback(server.host):
        return None
    return MailRefused(
        f"HUB_SMTP_URL logs in to {server.where} without TLS, which would send the password "
        "unencrypted: use smtps://…:465 (TLS from the start) or add ?starttls=1 (STARTTLS, "
        "usually port 587), then restart the hub and retry; only a server on this machine "
        "(127.0.0.1, localhost) may take a login in the clear")


def _refused_or_down(code: int, what: str, server: SmtpServer) -> MailError:
    text = f"the mail server at {server.where} answered {code} to {what}"
    return MailDown(text + "; trying again later") if 400 <= code < 500 else MailRefused(text)


def _untrusted(server: SmtpServer, exc: ssl.SSLCertVerificationError) -> MailRefused:
    # Retrying cannot make a certificate trusted: someone must fix the server or the URL.
    return MailRefused(f"the mail server at {server.where} presented a certificate this "
                       f"machine does not trust ({exc.verify_message}); fix the server's "
                       "certificate or HUB_SMTP_URL, then retry")


@contextmanager
def session(server: SmtpServer) -> Iterator[smtplib.SMTP]:
    """A connected, greeted and logged-in SMTP session, closed (politely if possible) after.
    A login without TLS to a server off this machine is refused before connecting."""
    refusal = plain_login_refusal(server)
    if refusal is not None:
        raise refusal
    context = ssl.create_default_context()
    try:
        if server.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port,
                                                  timeout=TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
    except ssl.SSLCertVerificationError as exc:
        raise _untrusted(server, exc) from None
    except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, TLS failed
        raise MailDown(f"could not reach the mail server at {server.where} "
                       f"({type(exc).__name__}); trying again later") from None
    try:
        try:
            smtp.ehlo()
            if server.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.user:
                smtp.login(server.user, server.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise MailRefused(f"the mail server at {server.where} refused the user name or "
                              f"password in HUB_SMTP_URL ({exc.smtp_code}); fix it and "
                              "restart the hub, then retry") from None
        except smtplib.SMTPNotSupportedError:
            raise MailRefused(f"the mail server at {server.where} does not offer "
                              f"{'STARTTLS' if server.starttls else 'login'}; check "
                              "HUB_SMTP_URL") from None
        except smtplib.SMTPResponseException as exc:
            raise _refused_or_down(exc.smtp_code, "the greeting", server) from None
        except ssl.SSLCertVerificationError as exc:
            raise _untrusted(server, exc) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailDown(f"the mail server at {server.where} hung up ({type(exc).__name__}); "
                           "trying again later") from None
        yield smtp
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()  # the message, if sent, was accepted before this: nothing is lost


def send(smtp: smtplib.SMTP, server: SmtpServer, message: EmailMessage) -> None:
    """Hand ``message`` over; returns once the server accepted it (250 after DATA)."""
    try:
        refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code = min(code for code, _text in exc.recipients.values())
        raise _refused_or_down(code, "the recipient", server) from None
    except smtplib.SMTPSenderRefused as exc:
        raise _refused_or_down(exc.smtp_code, "the sender (HUB_MAIL_FROM)", server) from None
    except smtplib.SMTPResponseException as exc:
        raise _refused_or_down(exc.smtp_code, "the message", server) from None
    except smtplib.SMTPNotSupportedError:  # an address with non-ASCII in it, no SMTPUTF8
        raise MailRefused(f"the mail server at {server.where} cannot take this address "
                          "(it does not support SMTPUTF8)") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailDown(f"the mail server at {server.where} hung up while sending "
                       f"({type(exc).__name__}); trying again later") from None
    if refused:  # only possible with several recipients; we send to one
        raise MailRefused(f"the mail server at {server.where} refused the recipient")


def domain_of(mail_from: str) -> str:
    """The domain of ``HUB_MAIL_FROM``, for Message-IDs (``hub@localhost`` -> ``localhost``)."""
    _name, addr = parseaddr(mail_from)
    _local, at, domain = addr.rpartition("@")
    return domain.strip() if at and domain.strip() else "ledgerline-hub.invalid"


def compose(*, mail_from: str, to_email: str, to_name: str | None, subject: str, body: str,
            message_id: str, when: datetime | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    # Names and subjects are one line even if the host sent a line break in a contact's name.
    name = " ".join((to_name or "").split())
    try:
        message["To"] = Address(display_name=name, addr_spec=to_email)
    except (ValueError, HeaderParseError, IndexError):
        message["To"] = to_email  # a name or address the header classes will not quote
    message["Subject"] = " ".join(subject.split())
    message["Message-ID"] = message_id
    message["Date"] = format_datetime((when or datetime.now(UTC)).astimezone(UTC))
    # Asks vacation responders not to answer a message nobody reads replies to by machine.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message
