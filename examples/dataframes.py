"""Data frames on encrypted objects: pandas writes and reads parquet through ``s3crypt://``, against a local
moto_server. S3 stores ciphertext that s3crypt.client (and the AWS S3 Encryption Clients) decrypt.

Run it with ``python examples/dataframes.py`` once ``pip install -e ".[demo,fsspec]" pandas pyarrow`` has
installed s3crypt, moto, s3fs and pandas. With a real AWS account there is no server to start:
``storage_options={"kms_key_id": "alias/my-key"}`` is all ``s3crypt://`` needs.
"""

import os

import boto3
import pandas as pd

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

with moto_server() as endpoint:  # a local stand-in for S3 and KMS, stopped when the block ends
    aws = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
    key_id = boto3.client("kms", **aws).create_key()["KeyMetadata"]["KeyId"]
    boto3.client("s3", **aws).create_bucket(Bucket="my-bucket")
    os.environ["AWS_ENDPOINT_URL_KMS"] = endpoint  # only for moto: the KMS client s3crypt creates goes there

    storage_options = {
        "kms_key_id": key_id,
        "encryption_context": {"dataset": "sales"},
        # s3fs's own options, for the local server:
        "endpoint_url": endpoint,
        "key": TEST_CREDENTIALS["aws_access_key_id"],
        "secret": TEST_CREDENTIALS["aws_secret_access_key"],
        "client_kwargs": {"region_name": TEST_REGION},
    }
    sales = pd.DataFrame({"region": ["north", "south", "east"], "amount": [120.5, 98.0, 143.25]})
    sales.to_parquet("s3crypt://my-bucket/sales.parquet", storage_options=storage_options)

    read = pd.read_parquet("s3crypt://my-bucket/sales.parquet", storage_options=storage_options)
    print(read)

    stored = boto3.client("s3", **aws).get_object(Bucket="my-bucket", Key="sales.parquet")["Body"].read()
    print("stored bytes start with PAR1 (plaintext parquet)?", stored.startswith(b"PAR1"))
    s3 = s3crypt.client("s3", kms_key_id=key_id, **aws)
    body = s3.get_object(Bucket="my-bucket", Key="sales.parquet", EncryptionContext={"dataset": "sales"})["Body"]
    print("s3crypt.client reads the same parquet file:", body.read().startswith(b"PAR1"))
