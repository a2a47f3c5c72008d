"""Encryption at rest for tokens and secret settings.

Keys come from ``HUB_ENCRYPTION_KEYS`` (comma-separated Fernet keys, newest first) or are derived
from ``HUB_SECRET_KEY``. MultiFernet decrypts with any listed key and encrypts with the first, so a
new key can be put in front and old values re-encrypted at leisure (``hub keys rotate``).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.config import Config
from hub.errors import ConfigError


def derive_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ledgerline-hub",
                info=b"encryption-at-rest")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


class Crypto:
    def __init__(self, config: Config) -> None:
        keys: list[bytes] = []
        for i, key in enumerate(config.encryption_keys):
            try:
                Fernet(key.encode())
            except ValueError:
                raise ConfigError(
                    f"HUB_ENCRYPTION_KEYS entry {i + 1} is not a Fernet key; make one with "
                    "`python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`"
                ) from None
            keys.append(key.encode())
        if not keys:
            keys.append(derive_key(config.secret_key))
        elif config.secret_key:
            # Values written before HUB_ENCRYPTION_KEYS was set stay readable.
            keys.append(derive_key(config.secret_key))
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored secret cannot be decrypted with the configured keys: was "
                "HUB_SECRET_KEY or HUB_ENCRYPTION_KEYS changed? Put the old key back in "
                "HUB_ENCRYPTION_KEYS (after the new one) and run `hub keys rotate`"
            ) from None

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()


def mask(secret: str | None) -> str:
    """How a secret is shown: never whole, enough to tell two apart."""
    if not secret:
        return ""
    return "…" + secret[-4:] if len(secret) >= 12 else "••••"
