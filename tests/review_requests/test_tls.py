"""``smtps://`` and ``?starttls=1`` against a real TLS server, its certificate verified."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.queue.worker import run_due
from hub.testing import Inbox
from tests.conftest import free_port
from tests.review_requests.conftest import delivery, paid, send_paid


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by this test's TLS clients only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address(
                "127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    # ssl.create_default_context() reads OpenSSL's default paths, which honour this variable.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    return cert_path, key_path


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def _tls_server(mode: str, inbox: Inbox, port: int,
                context: ssl.SSLContext) -> tuple[Controller, str]:
    """A started server: TLS from the first byte (smtps) or STARTTLS required (starttls)."""
    if mode == "smtps":
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context)
        url = f"smtps://127.0.0.1:{port}"
    else:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True)
        url = f"smtp://127.0.0.1:{port}?starttls=1"
    controller.start()
    return controller, url


@pytest.mark.parametrize("mode", ["smtps", "starttls"])
def test_mail_goes_over_verified_tls(mode: str, certificate: tuple[Path, Path],
                                     make_reviews_hub: Any) -> None:
    inbox, port = Inbox(), free_port()
    controller, url = _tls_server(mode, inbox, port, _server_context(certificate))
    try:
        hub = make_reviews_hub(url)
        send_paid(hub, "evt_1", paid())
        run_due(hub)
    finally:
        controller.stop()
    assert delivery(hub, "evt_1")["status"] == "done", delivery(hub, "evt_1")
    assert len(inbox.messages) == 1


@pytest.mark.parametrize("mode", ["smtps", "starttls"])
def test_an_untrusted_certificate_needs_the_operator(mode: str, certificate: tuple[Path, Path],
                                                     make_reviews_hub: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent.pem")
    inbox, port = Inbox(), free_port()
    controller, url = _tls_server(mode, inbox, port, _server_context(certificate))
    try:
        hub = make_reviews_hub(url)
        send_paid(hub, "evt_1", paid())
        run_due(hub)
    finally:
        controller.stop()
    state = delivery(hub, "evt_1")
    assert state["status"] == "dead"
    assert state["last_error"].startswith(f"the mail server at 127.0.0.1:{port} presented a "
                                          "certificate this machine does not trust (")
    assert inbox.messages == []
