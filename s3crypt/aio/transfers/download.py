"""``download_file`` and ``download_fileobj`` on the asyncio client: ranges written where they belong in a file as
they arrive (:mod:`.arrivals`), then one sequential pass that authenticates them.

As for the sync client (:mod:`s3crypt._transfer.download`):

- ``download_file``: the file is a temporary file beside the target; the pass decrypts it in place (plaintext
  over ciphertext), checks the tag, cuts the tag off and renames the file into place;
- ``download_fileobj``: the file is an anonymous temporary file holding ciphertext only; the pass checks the
  tag, then a second pass decrypts it (AES-CTR) into the caller's file object.

The pass follows the arrivals on the loop and runs the sync readers of :mod:`s3crypt._crypto.streams` a chunk at
a time in a worker thread, over bytes that have already arrived (:class:`Arrived`); the tag is read only once it
has arrived too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from typing import TYPE_CHECKING, Any

from s3crypt._core.get import content_cipher_for, unwrap_request
from s3crypt._core.transfers import range_header, temporary_beside
from s3crypt._crypto.streams import DelayedAuthReader, RangeReader, plaintext_reader
from s3crypt._crypto.suites import GCM_TAG_LENGTH
from s3crypt._operations.instruction import take_suffix
from s3crypt._operations.params import encryption_context_for
from s3crypt.aio import instruction
from s3crypt.aio.transfers.arrivals import GetRange, arrivals_of
from s3crypt.aio.transfers.passes import Arrived, InPlace, Writer, copy, follow, reporting

if TYPE_CHECKING:
    from s3crypt._crypto.content import ContentCipher
    from s3crypt._transfer.utils import Transfer

_NOTHING_WRITTEN = "the download's temporary file was removed and the target left as it was"
_NOTHING_RELEASED = "nothing was written to the file object"


async def download_file(client: Any, filename: str | os.PathLike[str], transfer: Transfer) -> None:
    target = os.fspath(filename)
    size, cipher, get_range = await _prepare(client, transfer)
    temporary = temporary_beside(target, secrets.token_hex(6))
    # O_EXCL: never another's file; the umask applies, as for boto3's files.
    fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        source = Arrived(fd)
        async with arrivals_of(get_range, fd, size, transfer.config) as arrivals:
            if cipher.suite.is_legacy:  # CBC: no tag, decrypted only when the client opted into legacy modes
                reader = plaintext_reader(source, size, cipher, delayed=True, memory_limit=0)
            else:  # plaintext over the ciphertext it came from; only a verified tag renames the file into place
                reader = DelayedAuthReader(source, size, cipher, released=_NOTHING_WRITTEN)
            in_place = InPlace(reader, fd)
            await follow(arrivals, source, in_place, reporting(transfer.callback))  # the last read checks the tag
        os.ftruncate(fd, in_place.written)
        os.close(fd)
        fd = -1
        os.replace(temporary, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


async def download_fileobj(client: Any, fileobj: Any, transfer: Transfer) -> None:
    size, cipher, get_range = await _prepare(client, transfer)
    writer = Writer(fileobj, transfer.callback)
    with tempfile.TemporaryFile() as spool:
        source = Arrived(spool.fileno())
        async with arrivals_of(get_range, spool.fileno(), size, transfer.config) as arrivals:
            if cipher.suite.is_legacy:  # CBC has no tag to wait for
                reader = plaintext_reader(source, size, cipher, delayed=False, memory_limit=0)
                await follow(arrivals, source, writer.reading(reader), writer.deliver)
                return
            authenticating = DelayedAuthReader(source, size, cipher, released=_NOTHING_RELEASED)
            await follow(arrivals, source, authenticating.read, None)  # the plaintext is dropped
        spool.seek(0)
        await copy(writer.reading(RangeReader(spool, cipher, 0, 0, size - GCM_TAG_LENGTH)), writer.deliver)


async def _prepare(client: Any, transfer: Transfer) -> tuple[int, ContentCipher, GetRange]:
    """The object's ciphertext size and content cipher, and a ranged GET pinned to this version of it."""
    config, resources = client._s3crypt_bound_config, client._s3crypt_resources
    bucket, key, args = transfer.bucket, transfer.key, dict(transfer.args)
    context = encryption_context_for(config, args.pop("EncryptionContext", None), bucket, key)
    suffix = take_suffix(args)
    head = await client.head_object(Bucket=bucket, Key=key, **args)
    size: int = head["ContentLength"]
    stored_metadata = await instruction.completed(resources, bucket, key, suffix, head.get("Metadata") or {})
    request = unwrap_request(config, stored_metadata, size, context)
    cipher = content_cipher_for(
        request.envelope, await client._s3crypt_async_keyring.decrypt_data_key(*request.arguments)
    )
    get_args = {**args, "IfMatch": head["ETag"]}
    raw_reads = await resources.unhooked()  # the ranges are read as stored, and decrypted here

    async def get_range(start: int, end: int) -> Any:
        response = await raw_reads.get_object(Bucket=bucket, Key=key, Range=range_header(start, end), **get_args)
        return response["Body"]

    return size, cipher, get_range
