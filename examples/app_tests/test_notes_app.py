"""Tests of notes_app with the fixtures of s3crypt's pytest plugin: no conftest, no moto set-up.

Run them with ``python -m pytest examples/app_tests`` (pytest and moto installed: ``pip install "s3crypt[test]"``).
"""

from typing import Any

import pytest
from notes_app import NoteStore

import s3crypt
from s3crypt.testing import assert_encrypted

TEXT = "Buy milk, eggs and a very long list of other things"


@pytest.fixture
def store(s3crypt_client: Any, s3crypt_bucket: str) -> NoteStore:
    return NoteStore(s3crypt_client, s3crypt_bucket)


def test_a_note_reads_back(store: NoteStore) -> None:
    key = store.save("alice", "shopping", TEXT)
    assert store.load("alice", key) == TEXT


def test_notes_are_encrypted_at_rest(store: NoteStore, s3crypt_raw_client: Any, s3crypt_bucket: str) -> None:
    key = store.save("alice", "shopping", TEXT)
    envelope = assert_encrypted(s3crypt_raw_client, s3crypt_bucket, key, TEXT.encode())
    assert envelope.data_key.description["user"] == "alice"  # the KMS encryption context stored with the object


def test_a_user_cannot_read_another_users_note(store: NoteStore) -> None:
    key = store.save("alice", "diary", "Dear diary")
    with pytest.raises(s3crypt.DecryptionError):
        store.load("bob", key)


def test_the_deployed_configuration(monkeypatch: pytest.MonkeyPatch, s3crypt_kms_key: str, s3crypt_bucket: str) -> None:
    """The app builds its own client from the environment; the mocked AWS serves it all the same."""
    monkeypatch.setenv("NOTES_KMS_KEY", s3crypt_kms_key)
    monkeypatch.setenv("NOTES_BUCKET", s3crypt_bucket)
    store = NoteStore.from_environment()
    key = store.save("carol", "todo", TEXT)
    assert store.load("carol", key) == TEXT
