"""Encryption of workspace secrets at rest: AES-256-GCM with a key ring and key ids.

Stored form: ``v1:<key id>:<urlsafe base64 of nonce + ciphertext + tag>``. The workspace id is
the associated data, so a ciphertext copied into another workspace's row does not decrypt.
The first key of the ring encrypts; every key decrypts, which makes rotation a background
re-encryption rather than a flag day. Nothing here imports Flask.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class CryptoError(Exception):
    """Base class; messages name settings and key ids, never key material or plaintext."""


class KeyringError(CryptoError):
    """The configured key ring is missing or malformed."""


class UnknownKeyError(CryptoError):
    """The stored value was written with a key id that the ring does not hold."""

    def __init__(self, kid: str):
        super().__init__(f"encryption key '{kid}' is not in PORTAL_ENCRYPTION_KEYS")
        self.kid = kid


class DecryptError(CryptoError):
    """The stored value is corrupt, or belongs to another workspace."""


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def generate_key() -> str:
    """Return a new ``kid:key`` entry for PORTAL_ENCRYPTION_KEYS."""
    kid = "k" + secrets.token_hex(4)
    return f"{kid}:{_b64encode(os.urandom(KEY_BYTES))}"


@dataclass(frozen=True)
class Keyring:
    """Ordered AES-256 keys by id; the first one is primary."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_config(cls, value: str | None) -> Keyring:
        """Parse ``kid:base64key,kid2:base64key``. Raises KeyringError."""
        if not value or not value.strip():
            raise KeyringError("PORTAL_ENCRYPTION_KEYS is not set")
        keys: list[tuple[str, bytes]] = []
        for position, entry in enumerate(value.split(","), start=1):
            kid, sep, encoded = entry.strip().partition(":")
            if not sep or not _KID.match(kid):
                raise KeyringError(f"PORTAL_ENCRYPTION_KEYS entry {position} is not 'kid:key'")
            try:
                raw = _b64decode(encoded.strip())
            except (binascii.Error, ValueError):
                raise KeyringError(f"encryption key '{kid}' is not base64") from None
            if len(raw) != KEY_BYTES:
                raise KeyringError(f"encryption key '{kid}' must be {KEY_BYTES} bytes")
            if any(kid == known for known, _ in keys):
                raise KeyringError(f"encryption key '{kid}' is listed twice")
            keys.append((kid, raw))
        return cls(tuple(keys))

    @property
    def primary_kid(self) -> str:
        return self.keys[0][0]

    def _key(self, kid: str) -> bytes:
        for known, raw in self.keys:
            if known == kid:
                return raw
        raise UnknownKeyError(kid)

    @staticmethod
    def _aad(workspace_id: int) -> bytes:
        return f"workspace:{int(workspace_id)}".encode()

    def encrypt(self, plaintext: str, workspace_id: int) -> str:
        """Encrypt under the primary key, bound to the workspace."""
        kid, key = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), self._aad(workspace_id))
        return f"{VERSION}:{kid}:{_b64encode(nonce + sealed)}"

    def decrypt(self, stored: str, workspace_id: int) -> str:
        """Decrypt a stored value. Raises UnknownKeyError or DecryptError."""
        kid, blob = _split(stored)
        key = self._key(kid)
        try:
            raw = _b64decode(blob)
            nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
            plain = AESGCM(key).decrypt(nonce, sealed, self._aad(workspace_id))
        except (InvalidTag, binascii.Error, ValueError):
            raise DecryptError("stored secret cannot be decrypted for this workspace") from None
        return plain.decode("utf-8")

    def needs_rotation(self, stored: str) -> bool:
        """Tell whether the value was written under a key other than the primary."""
        kid, _ = _split(stored)
        return kid != self.primary_kid


def key_id_of(stored: str) -> str:
    """Return the key id a stored value was written with. Raises DecryptError."""
    return _split(stored)[0]


def _split(stored: str) -> tuple[str, str]:
    version, _, rest = (stored or "").partition(":")
    kid, _, blob = rest.partition(":")
    if version != VERSION or not kid or not blob:
        raise DecryptError("stored secret has an unknown format")
    return kid, blob
