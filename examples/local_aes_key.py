"""A raw AES key for local development: encryption without KMS or any AWS account.

``AesKeyring`` wraps each object's data key with AES-256-GCM under a 32-byte key you hold, so S3 (here a
local moto_server, or MinIO, or a real bucket) is the only service involved. Keep the key out of the code: read
it from a secret store or, for development, an environment variable. Objects it writes are in the standard
format: any S3 Encryption Client with the same key reads them.

Run it with ``python examples/local_aes_key.py``; it starts its own moto_server.
"""

import os
from typing import Any

import boto3

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

# For example: export DEV_DATA_KEY=$(python -c "import os; print(os.urandom(32).hex())")
key = bytes.fromhex(os.environ["DEV_DATA_KEY"]) if "DEV_DATA_KEY" in os.environ else os.urandom(32)
# The material description is stored with each object (not secret): say which key it needs.
keyring = s3crypt.AesKeyring(key, material_description={"key": "dev-2025"})

with moto_server() as endpoint:
    aws: dict[str, Any] = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
    boto3.client("s3", **aws).create_bucket(Bucket="dev-bucket")
    s3 = s3crypt.client("s3", keyring=keyring, **aws)  # no KMS client anywhere

    s3.put_object(Bucket="dev-bucket", Key="settings.json", Body=b'{"feature_flags": ["beta"]}')
    print("read back:", s3.get_object(Bucket="dev-bucket", Key="settings.json")["Body"].read().decode())

    other = s3crypt.client("s3", keyring=s3crypt.AesKeyring(os.urandom(32)), **aws)
    try:
        other.get_object(Bucket="dev-bucket", Key="settings.json")
    except s3crypt.DecryptionError as error:
        print("read with another key: refused:", error)
    else:
        raise SystemExit("another key opened the object: this must not happen")

    try:  # an encryption context needs KMS, which binds it to the data key
        s3.put_object(Bucket="dev-bucket", Key="x", Body=b"x", EncryptionContext={"tenant": "acme"})
    except s3crypt.ConfigurationError as error:
        print("EncryptionContext with an AES key: refused:", error)
