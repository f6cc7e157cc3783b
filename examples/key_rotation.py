"""Key rotation: re-wrap an object's data key under another key, without downloading or re-uploading it.

``rewrap_object`` unwraps the object's data key with the client's keyring and wraps it again with
``new_keyring``; the encrypted content stays as it is, and S3 copies the object onto itself with the new
metadata. Once every object is rewrapped, the old key can be disabled. Here an object moves from one KMS key
to another, then to a raw AES key (which, unlike KMS, carries no encryption context).

Run it with ``python examples/key_rotation.py``; it starts its own moto_server.
"""

import os
from typing import Any

import boto3

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

BUCKET = "archive"
KEY = "contract.pdf"
CONTEXT = {"department": "legal"}

with moto_server() as endpoint:
    aws: dict[str, Any] = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
    kms = boto3.client("kms", **aws)
    old_key = kms.create_key(Description="2024 key")["KeyMetadata"]["KeyId"]
    new_key = kms.create_key(Description="2025 key")["KeyMetadata"]["KeyId"]
    boto3.client("s3", **aws).create_bucket(Bucket=BUCKET)

    old_s3 = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(old_key, kms_client=kms), **aws)
    new_s3 = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(new_key, kms_client=kms), **aws)
    old_s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"%PDF- signed by both parties", EncryptionContext=CONTEXT)

    # 1. From one KMS key to another: the client of the old key unwraps, the new keyring wraps.
    old_s3.rewrap_object(
        Bucket=BUCKET,
        Key=KEY,
        new_keyring=s3crypt.KmsKeyring(new_key, kms_client=kms),
        EncryptionContext=CONTEXT,  # the object's current context
        NewEncryptionContext=CONTEXT,  # the context it keeps (it could change here)
    )
    body = new_s3.get_object(Bucket=BUCKET, Key=KEY, EncryptionContext=CONTEXT)["Body"].read()
    print("read with the new KMS key:", body.decode())
    try:
        old_s3.get_object(Bucket=BUCKET, Key=KEY, EncryptionContext=CONTEXT)
    except s3crypt.DecryptionError as error:
        print("read with the old KMS key: refused:", error)
    else:
        raise SystemExit("the old key still opened the object: this must not happen")

    # 2. From KMS to a raw AES key (say, to hand an archive over to a system without AWS): no context on that side.
    aes_key = os.urandom(32)
    new_s3.rewrap_object(Bucket=BUCKET, Key=KEY, new_keyring=s3crypt.AesKeyring(aes_key), EncryptionContext=CONTEXT)
    aes_s3 = s3crypt.client("s3", keyring=s3crypt.AesKeyring(aes_key), **aws)
    print("read with the AES key:", aes_s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read().decode())
