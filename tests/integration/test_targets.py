"""The machinery of the S3 targets: moto_server over TLS with a certificate made for the run."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import SSLError

from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server
from tests import targets

pytestmark = [pytest.mark.integration, pytest.mark.moto_only]


def test_moto_server_over_tls_is_trusted_only_with_its_certificate(tmp_path: Path) -> None:
    certificate, key = targets.make_certificate(tmp_path)
    with moto_server(tls=(certificate, key)) as url:
        target = targets.moto(url, ca_bundle=certificate)
        trusting = boto3.client("s3", **target.s3)
        trusting.create_bucket(Bucket="tls")
        assert url.startswith("https://127.0.0.1:")
        assert (target.name, target.ca_bundle) == ("moto-https", certificate)
        assert [bucket["Name"] for bucket in trusting.list_buckets()["Buckets"]] == ["tls"]
        with pytest.raises(SSLError):
            boto3.client("s3", endpoint_url=url, region_name=TEST_REGION, **TEST_CREDENTIALS).list_buckets()
