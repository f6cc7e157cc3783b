"""A tiny application to test: users' notes, stored encrypted in S3, each bound to its user's context."""

import os
from typing import Any

import s3crypt


class NoteStore:
    """Saves and loads notes; give it any S3 client, so tests can give it theirs."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    @classmethod
    def from_environment(cls) -> "NoteStore":
        """The store of the deployed app: bucket and KMS key from the environment, AWS from boto3's settings."""
        return cls(s3crypt.client("s3", kms_key_id=os.environ["NOTES_KMS_KEY"]), os.environ["NOTES_BUCKET"])

    def save(self, user: str, title: str, text: str) -> str:
        key = f"notes/{user}/{title}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=text.encode(), EncryptionContext={"user": user})
        return key

    def load(self, user: str, key: str) -> str:
        """The note at ``key``, if it belongs to ``user``; :class:`s3crypt.DecryptionError` otherwise."""
        response = self.s3.get_object(Bucket=self.bucket, Key=key, EncryptionContext={"user": user})
        text: str = response["Body"].read().decode()
        return text
