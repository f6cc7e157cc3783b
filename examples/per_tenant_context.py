"""Per-tenant encryption contexts: every object is bound to its tenant, and another tenant cannot read it.

The ``EncryptionContext`` is authenticated by KMS together with the data key: a read must name exactly the
context the object was written with. Give each tenant's objects ``{"tenant": <id>}`` and one tenant's request can
never decrypt another's object, even under the same KMS key and in the same bucket. (In AWS, an IAM condition on
``kms:EncryptionContext:tenant`` can also restrict who may use which tenant's context, and CloudTrail logs it.)

Run it with ``python examples/per_tenant_context.py``; it starts its own moto_server.
"""

import json
from typing import Any

import boto3

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

BUCKET = "saas-data"


def save(s3: Any, tenant: str, name: str, data: bytes) -> str:
    key = f"{tenant}/{name}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, EncryptionContext={"tenant": tenant})
    return key


def load(s3: Any, tenant: str, key: str) -> bytes:
    response = s3.get_object(Bucket=BUCKET, Key=key, EncryptionContext={"tenant": tenant})
    body: bytes = response["Body"].read()
    return body


with moto_server() as endpoint:
    aws: dict[str, Any] = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
    kms = boto3.client("kms", **aws)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    raw = boto3.client("s3", **aws)
    raw.create_bucket(Bucket=BUCKET)
    s3 = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(key_id, kms_client=kms), **aws)

    acme_invoice = save(s3, "acme", "invoice.txt", b"ACME owes $100")
    save(s3, "globex", "invoice.txt", b"Globex owes $250")
    print("acme reads its invoice:", load(s3, "acme", acme_invoice).decode())

    # The context is stored in the object's metadata (x-amz-t in the V3 format): it is not secret, but KMS checks
    # it on every Decrypt, so altering it makes the object unreadable. s3crypt adds the algorithm's entry.
    stored_context = json.loads(raw.head_object(Bucket=BUCKET, Key=acme_invoice)["Metadata"]["x-amz-t"])
    print("context stored with it:", stored_context)

    try:
        load(s3, "globex", acme_invoice)
    except s3crypt.DecryptionError as error:
        print("globex reads acme's invoice: refused:", error)
    else:
        raise SystemExit("globex read acme's invoice: this must not happen")
