"""Faults injected at every step of the encrypting operations, with botocore's standard retries doing their work.

Every S3 and KMS request of ``put_object``, ``get_object``, the multipart API, ``upload_file`` and
``download_file`` goes through a fault-injecting proxy (:mod:`tests.reliability.proxy`) in front of
``moto_server``. For each step of each operation and each kind of fault (timeouts, which are slow, at some steps
only), once transient (the first attempts fail, the last succeeds) and once persistent (every attempt fails), the
outcome must be one of:

- success, and the object decrypts to the original bytes (or the download holds them); or
- a clear error (S3's and botocore's errors unwrapped; KMS failures as s3crypt's ``EncryptionError`` or
  ``DecryptionError``), with no object at the key, no multipart upload left open, and no file or temporary file
  in the download directory.

Retried ``PutObject`` and ``UploadPart`` requests must carry byte-identical ciphertext. A KMS response cut
short, which botocore parses as an empty response, is also injected below botocore, with a ``before-send``
handler.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import ExponentialBackoff

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION
from tests.front_ends import asyncio_client
from tests.helpers import send_parts_and_complete
from tests.reliability.proxy import Delay, DropUpload, Exchange, Fault, FaultProxy, Reset, Truncate, kms_error, s3_error

MIB = 2**20
KEY = "object"
CONTEXT = {"suite": "faults"}
MAX_ATTEMPTS = 3
"""Attempts per request, the first included."""
READ_TIMEOUT = 1.0
PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
KMS_STEPS = frozenset({"GenerateDataKey", "Decrypt"})
_bucket_numbers = itertools.count()
pytestmark = pytest.mark.front_ends  # the tests with a scene run on the sync and the asyncio client


@dataclasses.dataclass(frozen=True)
class Server:
    """The moto_server, a KMS key in it, and clients that talk to it directly."""

    endpoint: str
    key_id: str
    direct: Any
    """An s3crypt client of the key, to write the objects read in the tests and to read back those written."""
    plain: Any
    """A boto3 client, which shows what S3 stores."""


@dataclasses.dataclass(frozen=True)
class Scene:
    """A test's bucket, and an s3crypt client whose S3 and KMS requests go through the proxy."""

    proxy: FaultProxy
    client: Any
    server: Server
    bucket: str
    workdir: Path
    """Holds the file to upload, and the download directory, which must hold nothing but a finished download."""
    front_end: str = "sync"

    @property
    def downloads(self) -> Path:
        return self.workdir / "downloads"


@pytest.fixture(scope="module")
def server(endpoint: str) -> Server:
    connection = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
    kms = boto3.client("kms", **connection)
    key_id: str = kms.create_key()["KeyMetadata"]["KeyId"]
    direct = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(key_id, kms_client=kms), **connection)
    return Server(endpoint, key_id, direct, boto3.client("s3", **connection))


@pytest.fixture(autouse=True)
def _short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore waits up to 50 ms, 100 ms, ... before a retry, and 1 s, 2 s, ... after throttling: keep its
    # decisions, shorten its waits.
    for scale in ("throttling_base_scale", "non_throttling_base_scale"):
        monkeypatch.setitem(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, scale, 0.001)


@pytest.fixture
def scene(server: Server, tmp_path: Path, front_end: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scene]:
    bucket = f"faults-{next(_bucket_numbers)}"
    server.plain.create_bucket(Bucket=bucket)
    (tmp_path / "downloads").mkdir()
    # New clients for every test: each has its own budget of retries (botocore's retry quota).
    config = Config(
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"}, connect_timeout=1, read_timeout=READ_TIMEOUT
    )
    with FaultProxy(server.endpoint) as proxy, contextlib.ExitStack() as stack:
        proxied = {"endpoint_url": proxy.url, "region_name": TEST_REGION, "config": config, **TEST_CREDENTIALS}
        if front_end == "sync":
            keyring = s3crypt.KmsKeyring(server.key_id, kms_client=boto3.client("kms", **proxied))
            client = s3crypt.client("s3", keyring=keyring, **proxied)
        else:  # the KMS client the asyncio client creates, through the proxy too
            monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", proxy.url)
            client = stack.enter_context(asyncio_client(kms_key_id=server.key_id, **proxied))
        yield Scene(proxy, client, server, bucket, tmp_path, front_end)
    server.plain.delete_object(Bucket=bucket, Key=KEY)  # moto_server keeps objects in memory for the whole session


# The operations. A read returns the plaintext its caller gets; a write's object is read back after it.


def put_object(scene: Scene, data: bytes) -> None:
    scene.client.put_object(Bucket=scene.bucket, Key=KEY, Body=data, EncryptionContext=CONTEXT)


def multipart_api(scene: Scene, data: bytes) -> None:
    """The multipart calls as a careful caller makes them: if one fails, the upload is aborted."""
    client = scene.client
    upload_id = client.create_multipart_upload(Bucket=scene.bucket, Key=KEY, EncryptionContext=CONTEXT)["UploadId"]
    try:
        chunks = [data[offset : offset + 5 * MIB] for offset in range(0, len(data), 5 * MIB)]
        send_parts_and_complete(client, scene.bucket, KEY, upload_id, chunks)
    except BaseException:
        with contextlib.suppress(ClientError):  # NoSuchUpload, if S3 completed it after all
            client.abort_multipart_upload(Bucket=scene.bucket, Key=KEY, UploadId=upload_id)
        raise


def upload_file(scene: Scene, data: bytes) -> None:
    source = scene.workdir / "source.bin"
    source.write_bytes(data)
    scene.client.upload_file(str(source), scene.bucket, KEY, ExtraArgs={"EncryptionContext": CONTEXT}, Config=PARTS)


def get_object(scene: Scene, data: bytes) -> bytes:
    body: bytes = scene.client.get_object(Bucket=scene.bucket, Key=KEY, EncryptionContext=CONTEXT)["Body"].read()
    return body


def download_file(scene: Scene, data: bytes) -> bytes:
    target = scene.downloads / "target.bin"
    scene.client.download_file(scene.bucket, KEY, str(target), ExtraArgs={"EncryptionContext": CONTEXT}, Config=PARTS)
    assert os.listdir(scene.downloads) == [target.name]
    return target.read_bytes()


def read_back(scene: Scene) -> bytes:
    response = scene.server.direct.get_object(Bucket=scene.bucket, Key=KEY, EncryptionContext=CONTEXT)
    body: bytes = response["Body"].read()
    return body


@dataclasses.dataclass(frozen=True)
class Operation:
    run: Callable[[Scene, bytes], bytes | None]
    steps: tuple[str, ...]
    """Its S3 and KMS requests, by the proxy's names for them (:attr:`tests.reliability.proxy.Request.operation`)."""
    size: int
    writes: bool

    def __str__(self) -> str:
        return self.run.__name__


UPLOAD_STEPS = ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "GenerateDataKey")
PUT = Operation(put_object, ("PutObject", "GenerateDataKey"), 300_000, writes=True)
GET = Operation(get_object, ("GetObject", "Decrypt"), 300_000, writes=False)
MULTIPART = Operation(multipart_api, UPLOAD_STEPS, 5 * MIB + 4321, writes=True)  # two parts
UPLOAD = Operation(upload_file, UPLOAD_STEPS, 10 * MIB + 1, writes=True)  # three parts, sent concurrently
DOWNLOAD = Operation(download_file, ("HeadObject", "GetObject", "Decrypt"), 6 * MIB, writes=False)  # two ranges
OPERATIONS = (PUT, GET, MULTIPART, UPLOAD, DOWNLOAD)

# The kinds of fault, each giving the fault to inject into a step.
FAULTS: dict[str, Callable[[str], Fault]] = {
    "throttled": lambda step: (
        kms_error(400, "ThrottlingException", "Rate exceeded")
        if step in KMS_STEPS
        else s3_error(503, "SlowDown", "Please reduce your request rate.")
    ),
    "internal-error": lambda step: (
        kms_error(500, "KMSInternalException", "An internal error occurred.")
        if step in KMS_STEPS
        else s3_error(500, "InternalError", "We encountered an internal error. Please try again.")
    ),
    "reset": lambda step: Reset(),
    "timeout": lambda step: Delay(READ_TIMEOUT + 1),
    "truncated-response": lambda step: Truncate(),
    "dropped-upload": lambda step: DropUpload(),
}
RESPONSE_BODIES = frozenset({"GetObject", "CreateMultipartUpload", "CompleteMultipartUpload", *KMS_STEPS})
REQUEST_BODIES = frozenset({"PutObject", "UploadPart", "CompleteMultipartUpload", *KMS_STEPS})


def is_retried(operation: Operation, kind: str, step: str, front_end: str = "sync") -> bool:
    """Whether a transient fault is overcome by retrying."""
    if kind != "truncated-response":
        return True
    if front_end == "asyncio" and step in KMS_STEPS:
        return True  # aiohttp sees the response end before its Content-Length, and aiobotocore retries it
    if step == "GetObject":
        # botocore retries requests, not the reading of a streamed body; the managed downloads fetch a range cut
        # short again, as s3transfer does (TransferConfig.num_download_attempts).
        return operation is DOWNLOAD
    # botocore parses a KMS response cut short as an empty response, which s3crypt refuses.
    return step not in KMS_STEPS


# A timeout costs a read timeout per attempt. To S3 it is what a reset is (the request is not carried out), and
# resets are tried at every step: timeouts go to the steps that resend a body or call KMS, once transient (one
# attempt times out) and, for three of them, persistent.
TIMEOUTS: dict[tuple[Operation, str], tuple[int | None, ...]] = {
    (PUT, "PutObject"): (1, None),
    (PUT, "GenerateDataKey"): (1,),
    (GET, "GetObject"): (1,),
    (GET, "Decrypt"): (1, None),
    (MULTIPART, "UploadPart"): (1,),
    (UPLOAD, "UploadPart"): (1, None),
    (DOWNLOAD, "GetObject"): (1,),
}


def durations(operation: Operation, step: str, kind: str) -> tuple[int | None, ...]:
    """How many requests of the step the fault hits in each case: all attempts but the last (transient), or every
    one (persistent, None); no case where the fault does not apply."""
    if kind == "timeout":
        return TIMEOUTS.get((operation, step), ())
    if (kind == "truncated-response" and step not in RESPONSE_BODIES) or (
        kind == "dropped-upload" and step not in REQUEST_BODIES
    ):
        return ()
    return (MAX_ATTEMPTS - 1, None)


CASES = [
    pytest.param(operation, step, kind, times, id=f"{operation}-{step}-{kind}-{'transient' if times else 'persistent'}")
    for operation in OPERATIONS
    for step in operation.steps
    for kind in FAULTS
    for times in durations(operation, step, kind)
]


@pytest.mark.integration
@pytest.mark.parametrize(("operation", "step", "kind", "times"), CASES)
def test_fault(scene: Scene, operation: Operation, step: str, kind: str, times: int | None) -> None:
    data = os.urandom(operation.size)
    if not operation.writes:
        scene.server.direct.put_object(Bucket=scene.bucket, Key=KEY, Body=data, EncryptionContext=CONTEXT)
    scene.proxy.arm(step, FAULTS[kind](step), times)
    retried = is_retried(operation, kind, step, scene.front_end)
    outcome = attempt(operation, scene, data)
    if isinstance(outcome, Exception):
        assert times is None or not retried, f"a transient {kind} at {step} was not overcome: {outcome!r}"
        assert_clear(outcome, step, operation)
        assert_failed_cleanly(scene, operation, data)
        if retried:
            assert len(faulted(scene)) >= MAX_ATTEMPTS, "botocore gave up before it used its attempts"
    else:
        assert times is not None, f"every {step} request failed, yet {operation} succeeded"
        assert retried, f"{operation} succeeded although {step} was not retried"
        assert (read_back(scene) if operation.writes else outcome) == data
        assert len(faulted(scene)) == times
        assert_stored_ciphertext_was_sent(scene, operation)
    assert_retries_resent_identical_bodies(scene)
    assert_no_open_upload(scene)


def attempt(operation: Operation, scene: Scene, data: bytes) -> bytes | Exception | None:
    """What the operation returns, or the error it raised (any other exception propagates)."""
    try:
        return operation.run(scene, data)
    except (BotoCoreError, ClientError, s3crypt.S3CryptError) as error:
        return error


def faulted(scene: Scene) -> list[Exchange]:
    return [exchange for exchange in scene.proxy.exchanges if exchange.fault is not None]


def carried_out_unseen(scene: Scene, step: str) -> list[Exchange]:
    """The requests of ``step`` that S3 carried out but whose response was cut short."""
    return [
        exchange
        for exchange in scene.proxy.exchanges
        if exchange.request.operation == step and isinstance(exchange.fault, Truncate)
    ]


def assert_clear(error: Exception, step: str, operation: Operation) -> None:
    """S3's and botocore's errors reach the caller unwrapped; KMS failures are s3crypt's, and say so."""
    if step in KMS_STEPS:
        expected = s3crypt.EncryptionError if operation.writes else s3crypt.DecryptionError
        assert isinstance(error, expected), f"{error!r} is not an {expected.__name__}"
        assert f"KMS {step}" in str(error) or "KMS could not decrypt" in str(error)
    else:
        assert isinstance(error, (ClientError, BotoCoreError)), f"{error!r} is not botocore's"


def assert_failed_cleanly(scene: Scene, operation: Operation, data: bytes) -> None:
    keys = [item["Key"] for item in scene.server.plain.list_objects_v2(Bucket=scene.bucket).get("Contents", [])]
    if operation.writes and carried_out_unseen(scene, "CompleteMultipartUpload"):
        # S3 completed the upload, but every response saying so was lost: the caller saw an error, and the object
        # S3 holds must be whole and authentic.
        assert keys == [KEY]
        assert read_back(scene) == data
    else:
        assert keys == ([] if operation.writes else [KEY])
    assert os.listdir(scene.downloads) == [], "a failed download left a file"
    assert {path.name for path in scene.workdir.iterdir()} <= {"source.bin", "downloads"}


def assert_no_open_upload(scene: Scene) -> None:
    # A CreateMultipartUpload whose response was cut short created an upload that its caller never learnt of: S3
    # keeps it until a lifecycle rule removes it, whatever the client does. Every other upload must be gone.
    lost = carried_out_unseen(scene, "CreateMultipartUpload")
    uploads = scene.server.plain.list_multipart_uploads(Bucket=scene.bucket).get("Uploads", [])
    assert len(uploads) == len(lost), f"{len(uploads)} multipart uploads are open: {uploads}"


def part_attempts(scene: Scene) -> dict[tuple[str, int], list[bytes]]:
    """The body of every attempt of each PutObject and UploadPart (by part number) that the proxy read."""
    attempts: dict[tuple[str, int], list[bytes]] = collections.defaultdict(list)
    for exchange in scene.proxy.exchanges:
        request = exchange.request
        if request.operation in {"PutObject", "UploadPart"}:
            number = int(request.query.get("partNumber", ["0"])[0])
            attempts[request.operation, number].append(exchange.body)
    return attempts


def assert_retries_resent_identical_bodies(scene: Scene) -> None:
    """Every attempt of a request sent the same bytes (or, when the proxy dropped it half-way, a prefix of them)."""
    for (operation, number), bodies in part_attempts(scene).items():
        whole = max(bodies, key=len)
        assert all(whole.startswith(body) for body in bodies), f"{operation} {number} was resent with other bytes"


def assert_stored_ciphertext_was_sent(scene: Scene, operation: Operation) -> None:
    if not operation.writes:
        return
    sent = b"".join(max(bodies, key=len) for _, bodies in sorted(part_attempts(scene).items()))
    stored = scene.server.plain.get_object(Bucket=scene.bucket, Key=KEY)["Body"].read()
    assert stored == sent


@pytest.mark.integration
@pytest.mark.parametrize(
    ("operation", "step"), [(PUT, "PutObject"), (MULTIPART, "UploadPart"), (UPLOAD, "UploadPart")], ids=str
)
def test_retried_uploads_send_identical_ciphertext(scene: Scene, operation: Operation, step: str) -> None:
    data = os.urandom(operation.size)
    scene.proxy.arm(step, FAULTS["internal-error"](step), times=MAX_ATTEMPTS - 1)
    operation.run(scene, data)
    assert read_back(scene) == data
    retried = [bodies for bodies in part_attempts(scene).values() if len(bodies) > 1]
    assert sum(len(bodies) - 1 for bodies in retried) == MAX_ATTEMPTS - 1
    assert all(len(set(bodies)) == 1 for bodies in retried)
    assert_stored_ciphertext_was_sent(scene, operation)


class _CutShort:
    """The raw body of a KMS response that ends half-way through its JSON."""

    def stream(self) -> Iterator[bytes]:
        yield b'{"CiphertextBlob": "AQIDAHh", "KeyId": "arn:aws:kms:us-east-1:123456789012:key/'


def _cut_short(request: AWSRequest, **_: Any) -> AWSResponse:
    return AWSResponse(request.url, 200, {}, _CutShort())


@pytest.mark.parametrize("call", ["GenerateDataKey", "Encrypt", "Decrypt", "Decrypt (discovery)"])
def test_a_kms_response_cut_short_is_an_s3crypt_error(kms: Any, kms_key: str, call: str) -> None:
    suite = s3crypt.AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    keyring = s3crypt.KmsKeyring(kms_key, kms_client=kms)
    wrapped = keyring.generate_data_key(suite, CONTEXT).encrypted
    kms.meta.events.register_first("before-send.kms", _cut_short)  # before moto's own before-send handler
    calls: dict[str, Callable[[], object]] = {
        "GenerateDataKey": lambda: keyring.generate_data_key(suite, CONTEXT),
        "Encrypt": lambda: keyring.wrap_data_key(os.urandom(32), suite, CONTEXT),
        "Decrypt": lambda: keyring.decrypt_data_key(wrapped, suite, CONTEXT),
        "Decrypt (discovery)": lambda: s3crypt.KmsKeyring.discovery(kms).decrypt_data_key(wrapped, suite, CONTEXT),
    }
    expected = s3crypt.DecryptionError if call.startswith("Decrypt") else s3crypt.EncryptionError
    with pytest.raises(expected, match="the response was incomplete: no"):
        calls[call]()
