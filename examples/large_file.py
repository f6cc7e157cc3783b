"""A large file through ``upload_file`` and ``download_file``, with a progress callback.

Above ``TransferConfig.multipart_threshold`` (8 MiB by default) the file is encrypted and sent in concurrent
parts, and downloaded in concurrent ranges; the callback receives byte counts from several threads.
``download_file`` writes to a temporary file and renames it into place only once the whole object has been
authenticated, so a tampered or truncated object never leaves a file behind.

Run it with ``python examples/large_file.py``; it starts its own moto_server and writes a 64 MiB temporary file.
"""

import filecmp
import os
import tempfile
import threading
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

SIZE = 64 * 1024 * 1024
MiB = 1024 * 1024


class Progress:
    """Prints the percentage done each time another 10 % is reached; safe to call from several threads."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.next_step = label, total, 0, 10
        self.lock = threading.Lock()

    def __call__(self, amount: int) -> None:
        with self.lock:
            self.done += amount
            percent = self.done * 100 // self.total
            if percent >= self.next_step:
                print(f"{self.label}: {percent:3d}% ({self.done // MiB} of {self.total // MiB} MiB)")
                self.next_step = percent // 10 * 10 + 10


with moto_server() as endpoint, tempfile.TemporaryDirectory() as directory:
    aws: dict[str, Any] = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
    kms = boto3.client("kms", **aws)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    boto3.client("s3", **aws).create_bucket(Bucket="big-files")
    s3 = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(key_id, kms_client=kms), **aws)

    original = os.path.join(directory, "original.bin")
    with open(original, "wb") as out:
        for _ in range(SIZE // MiB):
            out.write(os.urandom(MiB))

    config = TransferConfig(multipart_chunksize=8 * MiB, max_concurrency=4)  # 8 parts, 4 at a time
    s3.upload_file(original, "big-files", "original.bin", Callback=Progress("upload", SIZE), Config=config)

    copy = os.path.join(directory, "copy.bin")
    s3.download_file("big-files", "original.bin", copy, Callback=Progress("download", SIZE), Config=config)

    assert filecmp.cmp(original, copy, shallow=False), "the downloaded file differs from the uploaded one"
    print("the downloaded file is identical to the uploaded one")
