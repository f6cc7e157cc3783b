"""s3crypt for asyncio: an encrypting aiobotocore S3 client (install ``s3crypt[aio]``).

>>> async with s3crypt.aio.create_client("s3", kms_key_id="alias/my-key") as s3:
...     await s3.put_object(Bucket="b", Key="k", Body=b"secret")
...     body = (await s3.get_object(Bucket="b", Key="k"))["Body"]
...     await body.read()
b'secret'
"""

from s3crypt.aio.client import AioEncryptionClient
from s3crypt.aio.session import EncryptingClientContext, Session, create_client

__all__ = ["AioEncryptionClient", "EncryptingClientContext", "Session", "create_client"]
