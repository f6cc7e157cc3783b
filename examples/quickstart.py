"""Quick start: encrypt an object on put and decrypt it on get, against a local moto_server.

Run it with ``python examples/quickstart.py`` once ``pip install -e ".[demo]"`` has installed s3crypt and moto.
With a real AWS account there is no server to start: ``s3 = s3crypt.client("s3", kms_key_id="alias/my-key")``.
"""

import boto3

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

with moto_server() as endpoint:  # a local stand-in for S3 and KMS, stopped when the block ends
    aws = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
    kms = boto3.client("kms", **aws)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    boto3.client("s3", **aws).create_bucket(Bucket="my-bucket")

    s3 = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(key_id, kms_client=kms), **aws)
    s3.put_object(Bucket="my-bucket", Key="hello.txt", Body=b"Hello, world!", EncryptionContext={"app": "quickstart"})
    response = s3.get_object(Bucket="my-bucket", Key="hello.txt", EncryptionContext={"app": "quickstart"})
    print(response["Body"].read().decode())
