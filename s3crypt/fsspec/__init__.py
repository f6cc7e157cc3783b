"""``s3crypt://``: an fsspec filesystem of client-side encrypted S3 objects, for pandas, pyarrow, polars and
dask (install ``s3crypt[fsspec]``).

>>> import pandas as pd
>>> df.to_parquet("s3crypt://bucket/table.parquet", storage_options={"kms_key_id": "alias/my-key"})
>>> pd.read_parquet("s3crypt://bucket/table.parquet", storage_options={"kms_key_id": "alias/my-key"})
"""

from s3crypt.fsspec.filesystem import EncryptedS3FileSystem

__all__ = ["EncryptedS3FileSystem"]
