"""The key ring: AES-256-GCM bound to the workspace, key ids, rotation and safe errors."""

import pytest

from app.crypto import (
    DecryptError,
    Keyring,
    KeyringError,
    UnknownKeyError,
    generate_key,
    key_id_of,
)

TOKEN = "7|q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9Z0"


def test_round_trip_is_bound_to_the_workspace():
    ring = Keyring.from_config(generate_key())
    stored = ring.encrypt(TOKEN, 1)
    assert stored.startswith(f"v1:{ring.primary_kid}:")
    assert TOKEN not in stored
    assert ring.decrypt(stored, 1) == TOKEN
    with pytest.raises(DecryptError):
        ring.decrypt(stored, 2)


def test_same_plaintext_encrypts_differently_each_time():
    ring = Keyring.from_config(generate_key())
    assert ring.encrypt(TOKEN, 1) != ring.encrypt(TOKEN, 1)


def test_first_key_encrypts_and_every_key_decrypts():
    old, new = generate_key(), generate_key()
    stored_old = Keyring.from_config(old).encrypt(TOKEN, 5)
    ring = Keyring.from_config(f"{new},{old}")
    assert ring.decrypt(stored_old, 5) == TOKEN
    assert ring.needs_rotation(stored_old)
    rotated = ring.encrypt(ring.decrypt(stored_old, 5), 5)
    assert not ring.needs_rotation(rotated)
    assert key_id_of(rotated) == ring.primary_kid


def test_unknown_key_id_is_named_without_key_material():
    stored = Keyring.from_config(generate_key()).encrypt(TOKEN, 1)
    other = generate_key()
    with pytest.raises(UnknownKeyError) as caught:
        Keyring.from_config(other).decrypt(stored, 1)
    assert caught.value.kid == key_id_of(stored)
    assert other.split(":")[1] not in str(caught.value)


@pytest.mark.parametrize(
    "stored", ["", "plain-token", "v2:k1:abc", "v1:k1:", "v1::abc", "v1:KID:%%%"]
)
def test_corrupt_values_raise_decrypt_or_unknown_key(stored):
    ring = Keyring.from_config(generate_key())
    with pytest.raises((DecryptError, UnknownKeyError)):
        ring.decrypt(stored, 1)


def test_tampered_ciphertext_is_refused():
    ring = Keyring.from_config(generate_key())
    stored = ring.encrypt(TOKEN, 1)
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(DecryptError):
        ring.decrypt(flipped, 1)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "not set"),
        ("  ", "not set"),
        ("nokey", "entry 1"),
        ("k1:!!!notbase64", "not base64"),
        ("k1:c2hvcnQ", "32 bytes"),
        ("bad id:" + "A" * 43, "entry 1"),
    ],
)
def test_malformed_key_rings_are_refused_with_a_clear_message(value, fragment):
    with pytest.raises(KeyringError, match=fragment):
        Keyring.from_config(value)


def test_duplicate_key_ids_are_refused():
    key = generate_key()
    with pytest.raises(KeyringError, match="twice"):
        Keyring.from_config(f"{key},{key}")
