"""``download_file`` and ``download_fileobj`` on the asyncio client: ranges written where they belong in a file as
they arrive (:mod:`.arrivals`), then one sequential pass that authenticates them.

As for the sync client (:mod:`s3crypt._transfer.download`):

- ``download_file``: the file is a temporary file beside the target; the pass decrypts it in place (plaintext
  over ciphertext), checks the tag, cuts the tag off and renames the file into place;
- ``download_fileobj``: the file is an anonymous temporary file holding ciphertext only; the pass checks the
  tag, then a second pass decrypts it (AES-CTR) into the caller's file object.

The pass follows the arrivals on the loop and pushes the bytes that have arrived (:class:`Arrived`) into the
object's decryption (:mod:`s3crypt._crypto.decryption`), a chunk at a time in a worker thread.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from s3crypt._core.get import content_cipher_for, unwrap_request
from s3crypt._core.transfers import range_header
from s3crypt._crypto.decryption import CbcDecryption, Decryption, DelayedDecryption, RangeDecryption
from s3crypt._crypto.suites import GCM_TAG_LENGTH
from s3crypt._operations.instruction import take_suffix
from s3crypt._operations.params import encryption_context_for
from s3crypt._transfer.utils import landing_beside
from s3crypt.aio import instruction
from s3crypt.aio.transfers.arrivals import GetRange, arrivals_of
from s3crypt.aio.transfers.passes import Arrived, InPlace, Writer, copy, decrypting, follow, reporting

if TYPE_CHECKING:
    from s3crypt._crypto.content import ContentCipher
    from s3crypt._transfer.utils import Transfer

_NOTHING_WRITTEN = "the download's temporary file was removed and the target left as it was"
_NOTHING_RELEASED = "nothing was written to the file object"


async def download_file(client: Any, filename: str | os.PathLike[str], transfer: Transfer) -> None:
    target = os.fspath(filename)
    size, cipher, get_range = await _prepare(client, transfer)
    with landing_beside(target) as landing:
        source = Arrived(landing.fd)
        async with arrivals_of(get_range, landing.fd, size, transfer.config) as arrivals:
            # CBC (no tag) is decrypted only when the client opted into legacy modes; GCM's plaintext goes over
            # the ciphertext it came from, and only a verified tag renames the file into place
            if cipher.suite.is_legacy:
                decryption: Decryption = CbcDecryption(size, cipher)
            else:
                decryption = DelayedDecryption(size, cipher, released=_NOTHING_WRITTEN)
            in_place = InPlace(decrypting(source, decryption), landing.fd)
            await follow(arrivals, source, in_place, reporting(transfer.callback))  # the last step checks the tag
        landing.length = in_place.written


async def download_fileobj(client: Any, fileobj: Any, transfer: Transfer) -> None:
    size, cipher, get_range = await _prepare(client, transfer)
    writer = Writer(fileobj, transfer.callback)
    with tempfile.TemporaryFile() as spool:
        source = Arrived(spool.fileno())
        async with arrivals_of(get_range, spool.fileno(), size, transfer.config) as arrivals:
            if cipher.suite.is_legacy:  # CBC has no tag to wait for
                step = decrypting(source, CbcDecryption(size, cipher))
                await follow(arrivals, source, writer.writing(step), writer.deliver)
                return
            authentication = DelayedDecryption(size, cipher, released=_NOTHING_RELEASED)
            await follow(arrivals, source, decrypting(source, authentication), None)  # the plaintext is dropped
        content = Arrived(spool.fileno())
        content.limit = size - GCM_TAG_LENGTH
        step = decrypting(content, RangeDecryption(cipher, 0, 0, content.limit))
        await copy(writer.writing(step), writer.deliver)


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
