"""The managed transfers' decisions, which the sync and the asyncio shells share."""

from __future__ import annotations

import pytest

from s3crypt import ConfigurationError
from s3crypt._core.transfers import (
    MAX_PARTS,
    Part,
    Ranges,
    check_part_number,
    completion_params,
    creation_params,
    fetch_again,
    part_params,
    plan_parts,
)

MIB = 1024 * 1024


def test_a_file_is_cut_into_parts_the_last_shorter() -> None:
    assert plan_parts(12 * MIB + 1, 5 * MIB) == [
        Part(1, 0, 5 * MIB, False),
        Part(2, 5 * MIB, 5 * MIB, False),
        Part(3, 10 * MIB, 2 * MIB + 1, True),
    ]


def test_parts_grow_rather_than_pass_s3s_limit() -> None:
    parts = plan_parts(MAX_PARTS * 5 * MIB + 1, 5 * MIB)
    assert len(parts) == MAX_PARTS
    assert parts[-1].last
    assert sum(part.length for part in parts) == MAX_PARTS * 5 * MIB + 1
    check_part_number(MAX_PARTS, 5 * MIB)
    with pytest.raises(ConfigurationError, match="multipart_chunksize"):
        check_part_number(MAX_PARTS + 1, 5 * MIB)


@pytest.mark.parametrize(("calculation", "named"), [("when_supported", True), ("when_required", False)])
def test_the_creation_names_the_default_checksum_as_s3transfer_does(calculation: str, named: bool) -> None:
    args = {"ContentType": "text/plain", "SSECustomerKey": "k", "RequestPayer": "requester"}
    params = creation_params("b", "k", args, calculation, "CRC32")
    assert ("ChecksumAlgorithm" in params) is named
    assert creation_params("b", "k", {"ChecksumAlgorithm": "SHA256"}, calculation, "CRC32")["ChecksumAlgorithm"] == (
        "SHA256"
    )
    assert part_params(params) == {
        "SSECustomerKey": "k",
        "RequestPayer": "requester",
        **({"ChecksumAlgorithm": "CRC32"} if named else {}),
    }


def test_the_completion_lists_the_parts_in_order() -> None:
    params = {"Bucket": "b", "Key": "k", "ContentType": "text/plain", "ExpectedBucketOwner": "1"}
    parts = [{"PartNumber": 2, "ETag": "b"}, {"PartNumber": 1, "ETag": "a"}]
    assert completion_params(params, "id", parts) == {
        "Bucket": "b",
        "Key": "k",
        "UploadId": "id",
        "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": "a"}, {"PartNumber": 2, "ETag": "b"}]},
        "ExpectedBucketOwner": "1",
    }


def test_ranges_arrive_contiguously_and_resume_where_they_stopped() -> None:
    ranges = Ranges(25, threshold=10, chunk_size=10)
    assert (ranges.starts, ranges.ends) == ([0, 10, 20], [10, 20, 25])
    assert not ranges.wrote(1, 20)  # a range past the first missing one
    assert ranges.contiguous() == 0
    assert ranges.beyond(0) is None
    assert ranges.wrote(0, 4)
    assert ranges.contiguous() == 4
    assert (ranges.beyond(3), ranges.beyond(4)) == (4, None)
    assert ranges.missing(0) == (4, 10)
    ranges.wrote(0, 10)
    assert ranges.contiguous() == 20
    ranges.wrote(2, 25)
    assert ranges.contiguous() == 25
    assert ranges.beyond(25) == 25  # the whole object: nothing more to wait for
    assert len(Ranges(25, threshold=26, chunk_size=10)) == 1


def test_a_range_is_fetched_up_to_num_download_attempts_times() -> None:
    assert [fetch_again(attempt, 3) for attempt in (1, 2, 3)] == [True, True, False]
    assert not fetch_again(1, 0)
