"""What s3crypt takes from the internals of boto3, botocore and s3transfer, in one place.

None of these is documented API; each is here so that it is used from one module only, and
``tests/test_compat.py`` checks every one, failing loudly when a new release of a dependency moves or changes it.
"""

from __future__ import annotations

import boto3
import boto3.session
from botocore.httpchecksum import DEFAULT_CHECKSUM_ALGORITHM
from s3transfer.utils import S3_RETRYABLE_DOWNLOAD_ERRORS

__all__ = ["DEFAULT_CHECKSUM_ALGORITHM", "S3_RETRYABLE_DOWNLOAD_ERRORS", "default_boto3_session"]

# DEFAULT_CHECKSUM_ALGORITHM: the algorithm botocore checksums requests with when request_checksum_calculation is
# "when_supported"; s3transfer names it in CreateMultipartUpload, and so does a managed upload, which must name
# it before the parts carry it.
# S3_RETRYABLE_DOWNLOAD_ERRORS: the errors after which s3transfer fetches a download's range again; botocore
# retries a request, not the reading of its body.


def default_boto3_session() -> boto3.session.Session:
    """boto3's default session (the one ``boto3.client`` uses), created as boto3 creates it if there is none yet.

    boto3 does this in its private ``_get_default_session``; this uses only its public names.
    """
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    assert session is not None
    return session
