"""``s3crypt://``: s3fs's filesystem whose S3 client is s3crypt's asyncio encrypting client.

Every object is encrypted: listings report plaintext sizes and hide instruction files, reads serve bytes of
objects whose tag has verified, writes stream parts in order. Install ``s3crypt[fsspec]``; fsspec finds the
protocol through its ``fsspec.specs`` entry point.
"""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import s3fs
from fsspec.asyn import sync_wrapper
from fsspec.spec import make_instance
from s3fs.core import version_id_kw

from s3crypt._crypto.suites import GCM_TAG_LENGTH
from s3crypt._errors import ConfigurationError, NotEncryptedError
from s3crypt._format.context import validate_user_context
from s3crypt._format.instruction import DEFAULT_SUFFIX
from s3crypt.fsspec import options, reads
from s3crypt.fsspec.files import DecryptedFile, EncryptedWriteFile
from s3crypt.fsspec.session import EncryptingSession, Tokenized
from s3crypt.fsspec.transfers import BytesSource, upload_stream
from s3crypt.fsspec.verified import VerifiedObject, VerifiedObjects

S3CRYPT_PARAMETERS = {
    "put_object": ("EncryptionContext", "InstructionFile"),
    "create_multipart_upload": ("EncryptionContext", "InstructionFile"),
    "upload_part": ("IsLastPart",),
}
"""s3crypt's per-call parameters that s3fs's filter (which keeps only S3's own) must let through."""
_GET_CHUNK = 8 * 1024 * 1024
COPY_OBJECT_LIMIT = 5 * 1024**3
READ_CACHE_SIZE = 256 * 1024 * 1024
"""Default bytes of verified objects a filesystem keeps for further opens (memory up to
``decrypt_memory_limit`` each, the rest ciphertext on disk)."""


class EncryptedS3FileSystem(s3fs.S3FileSystem, metaclass=Tokenized):  # type: ignore[misc]
    """``s3fs.S3FileSystem`` over s3crypt's encrypting client. Takes s3fs's options and the encryption options
    of :func:`s3crypt.client` (exactly one of ``keyring`` and ``kms_key_id``, ``algorithm_suite``,
    ``instruction_file``, ``data_key_cache``, ``enable_ranged_get``, ...), plus:

    - ``encryption_context``: the encryption context of every object written and read (KMS keyrings only);
    - ``allow_plaintext``: read objects without client-side encryption as they are (a mixed bucket) instead of
      refusing them with :class:`s3crypt.NotEncryptedError`;
    - ``read_cache_size``: bytes of verified objects kept for further opens, in memory and on disk (256 MiB by
      default; the latest object is kept whatever its size).
    """

    protocol = ("s3crypt",)
    _strip_tokenize_options = options.UNTOKENIZED

    def __init__(
        self,
        *args: Any,
        keyring: Any = None,
        kms_key_id: str | None = None,
        encryption_context: Mapping[str, str] | None = None,
        allow_plaintext: bool = False,
        read_cache_size: int = READ_CACHE_SIZE,
        keyring_identity: str = "",
        **kwargs: Any,
    ) -> None:
        encryption = {name: kwargs.pop(name) for name in options.ENCRYPTION_OPTIONS if name in kwargs}
        self.encryption_config = options.encryption_config(keyring, kms_key_id, encryption)
        self.encryption_context = validate_user_context(dict(encryption_context or {}))
        self.allow_plaintext = bool(allow_plaintext)
        self._untokenized = {name: value for name, value in encryption.items() if name in options.UNTOKENIZED}
        if keyring is not None:
            self._untokenized["keyring"] = keyring
        self._verified_objects = VerifiedObjects(read_cache_size)
        client_options = {"keyring": keyring, "kms_key_id": kms_key_id, **encryption}
        session_kwargs = {name: kwargs.pop(name) for name in ("profile",) if name in kwargs}
        super().__init__(*args, session=EncryptingSession(client_options, session_kwargs), **kwargs)

    def __reduce__(self) -> Any:
        """Pickled (for dask workers) with portable options: see :func:`s3crypt.fsspec.options.portable`."""
        moved = options.portable({**self.storage_options, **self._untokenized})
        return make_instance, (type(self), self.storage_args, moved)

    def _filter_kwargs(self, s3_method: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        kept = super()._filter_kwargs(s3_method, kwargs)
        for name in S3CRYPT_PARAMETERS.get(s3_method.__name__, ()):
            if name in kwargs:
                kept[name] = kwargs[name]
        return kept  # type: ignore[no-any-return]

    async def _call_s3(self, method: str, *akwarglist: Any, **kwargs: Any) -> Any:
        if method in ("put_object", "create_multipart_upload") and self.encryption_context:
            kwargs.setdefault("EncryptionContext", self.encryption_context)
        return await super()._call_s3(method, *akwarglist, **kwargs)

    call_s3 = sync_wrapper(_call_s3)

    async def _iterdir(self, bucket: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Listing entries with plaintext sizes, without instruction files. An encrypted (GCM) object is its
        stored size less the 16-byte tag; with ``allow_plaintext`` an object may be either, so each is asked
        (HEAD, a few at a time)."""
        batch: list[dict[str, Any]] = []
        async for entry in super()._iterdir(bucket, **kwargs):
            if entry["type"] != "file":
                yield entry
            elif entry["name"].endswith(DEFAULT_SUFFIX):
                continue
            elif not self.allow_plaintext:
                entry["size"] = max(0, entry["Size"] - GCM_TAG_LENGTH)
                yield entry
            else:
                batch.append(entry)
                if len(batch) >= self.max_concurrency:
                    for sized in await self._sized(bucket, batch):
                        yield sized
                    batch = []
        for sized in await self._sized(bucket, batch):
            yield sized

    async def _sized(self, bucket: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        async def size(entry: dict[str, Any]) -> dict[str, Any]:
            key = entry["Key"].split("/", 1)[1]
            head = await self._call_s3("head_object", Bucket=bucket, Key=key, **version_id_kw(entry.get("VersionId")))
            info = await self._file_info(bucket, key, head)
            return {**entry, "size": info["size"], "encrypted": info["encrypted"]}

        return list(await asyncio.gather(*map(size, entries)))

    async def _info(
        self, path: str, bucket: Any = None, key: Any = None, refresh: bool = False, version_id: Any = None
    ) -> dict[str, Any]:
        """An object's info from S3 (HEAD), with its exact plaintext size; a directory's as s3fs finds it."""
        bucket, key, path_version = self.split_path(path)
        if key and not key.endswith("/"):
            try:
                head = await self._call_s3(
                    "head_object", Bucket=bucket, Key=key, **version_id_kw(version_id or path_version)
                )
            except FileNotFoundError:
                pass
            else:
                return await self._file_info(bucket, key, head)
        return await super()._info(path, refresh=refresh, version_id=version_id)  # type: ignore[no-any-return]

    async def _file_info(self, bucket: str, key: str, head: dict[str, Any]) -> dict[str, Any]:
        info = {
            "ETag": head.get("ETag", ""),
            "LastModified": head.get("LastModified", ""),
            "size": head["ContentLength"],
            "name": f"{bucket}/{key}",
            "type": "file",
            "StorageClass": head.get("StorageClass", "STANDARD"),
            "VersionId": head.get("VersionId"),
            "ContentType": head.get("ContentType"),
            "encrypted": True,
        }
        parts = reads.Parts.of(self.s3)
        try:
            stored = await reads.envelope_metadata(parts, bucket, key, DEFAULT_SUFFIX, head.get("Metadata") or {})
        except NotEncryptedError:
            if not self.allow_plaintext:
                raise reads.not_encrypted(f"s3crypt://{bucket}/{key}") from None
            info["encrypted"] = False
            return info
        info["size"] = reads.plaintext_size(stored, head["ContentLength"])
        return info

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None, **kwargs: Any) -> Any:
        if "a" in mode:
            raise NotImplementedError("s3crypt:// cannot append to an encrypted object")
        if "r" not in mode:
            file = super()._open(path, mode, block_size=block_size, **kwargs)
            file.__class__ = EncryptedWriteFile  # s3fs builds its S3File itself; ours only overrides methods
            return file
        details = self.info(path, version_id=kwargs.get("version_id"))
        return DecryptedFile(self, self._strip_protocol(path), block_size or self.default_block_size, details)

    async def _range(self, path: str, details: dict[str, Any], start: int, end: int) -> bytes:
        """Plaintext bytes ``[start, end)`` of the object of ``details``: from its verified copy; with
        ``enable_ranged_get``, by a ranged get decrypted unauthenticated; for a plaintext object
        (``allow_plaintext``), by a plain ranged get."""
        encrypted = details.get("encrypted", True)
        if encrypted and not self.encryption_config.enable_ranged_get:
            return (await self._verified(path, details)).read(start, end)
        if start >= end:
            return b""
        bucket, key, _ = self.split_path(path)
        arguments = {"Bucket": bucket, "Key": key, "Range": f"bytes={start}-{end - 1}", **_version(details)}
        client = await self.set_session()
        if encrypted:
            arguments["EncryptionContext"] = self.encryption_context
        else:
            client = await reads.Parts.of(client).resources.unhooked()
        response = await client.get_object(**arguments)
        async with response["Body"] as body:
            return await body.read()  # type: ignore[no-any-return]

    async def _verified(self, path: str, details: dict[str, Any]) -> VerifiedObject:
        """The object of ``details`` (its version, else its ETag), fetched and verified once."""
        bucket, key, _ = self.split_path(path)
        version = _version(details)
        await self.set_session()

        async def fetch() -> VerifiedObject:
            return await reads.fetch_verified(self.s3, bucket, key, version, self.encryption_context, DEFAULT_SUFFIX)

        return await self._verified_objects.get((bucket, key, *version.values()), fetch)

    async def _cat_file(self, path: str, version_id: Any = None, start: Any = None, end: Any = None, **_: Any) -> bytes:
        details = await self._info(path, version_id=version_id)
        size = details["size"]
        start = 0 if start is None else (start if start >= 0 else max(0, size + start))
        end = size if end is None else min(size, end if end >= 0 else max(0, size + end))
        return await self._range(path, details, start, end)

    async def _get_file(self, rpath: str, lpath: str, version_id: Any = None, **_: Any) -> None:
        """Download the plaintext to ``lpath``, which appears only once the object has verified."""
        if os.path.isdir(lpath):
            return
        details = await self._info(rpath, version_id=version_id)
        size = details["size"]
        read: Callable[[int, int], Awaitable[bytes]] = functools.partial(self._range, rpath, details)
        if details.get("encrypted", True) and not self.encryption_config.enable_ranged_get:
            verified = await self._verified(rpath, details)  # held here, whatever other downloads evict

            async def read(start: int, end: int) -> bytes:
                return await asyncio.to_thread(verified.read, start, end)

        directory = os.path.dirname(os.path.abspath(lpath))
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".s3crypt-")
        try:
            with os.fdopen(descriptor, "wb") as out:
                for start in range(0, size, _GET_CHUNK):
                    await asyncio.to_thread(out.write, await read(start, min(size, start + _GET_CHUNK)))
            os.replace(temporary, lpath)
        except BaseException:
            os.unlink(temporary)
            raise

    async def _pipe_file(
        self, path: str, data: bytes, chunksize: int = 50 * 2**20, mode: str = "overwrite", **kwargs: Any
    ) -> Any:
        bucket, key, _ = self.split_path(path)
        kwargs.pop("max_concurrency", None)  # parts go one after another: each continues one GCM message
        result = await upload_stream(self, bucket, key, BytesSource(data), len(data), chunksize, kwargs, mode=mode)
        self.invalidate_cache(path)
        return result

    async def _put_file(
        self, lpath: str, rpath: str, chunksize: int = 50 * 2**20, mode: str = "overwrite", **kwargs: Any
    ) -> Any:
        if os.path.isdir(lpath):
            return None
        bucket, key, _ = self.split_path(rpath)
        kwargs.pop("max_concurrency", None)
        callback = kwargs.pop("callback", None)
        with open(lpath, "rb") as source:
            size = os.fstat(source.fileno()).st_size
            if callback is not None:
                callback.set_size(size)
            result = await upload_stream(self, bucket, key, source, size, chunksize, kwargs, mode=mode)
            if callback is not None:
                callback.relative_update(size)
        self.invalidate_cache(rpath)
        return result

    async def _cp_file(self, path1: str, path2: str, preserve_etag: Any = None, **kwargs: Any) -> None:
        """One CopyObject under the client's copy rules; never s3fs's copy in parts (``UploadPartCopy``), which
        an encrypted object cannot be copied by."""
        info = await self._info(path1)
        if info["size"] + GCM_TAG_LENGTH > COPY_OBJECT_LIMIT:
            raise ConfigurationError(
                f"{path1} is larger than S3 copies in one CopyObject (5 GiB), and an encrypted object cannot be "
                "copied in parts: download and upload it again (get, then put)"
            )
        await self._copy_basic(path1, path2, **kwargs)

    async def open_async(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        raise NotImplementedError("s3crypt:// has no async files yet: use open(), or s3crypt.aio's get_object")

    def invalidate_cache(self, path: str | None = None) -> None:
        super().invalidate_cache(path)
        if path is None:
            self._verified_objects.clear()


def _version(details: dict[str, Any]) -> dict[str, str]:
    """The version of an object an info found: its VersionId, or else its ETag (a changed object fails)."""
    return {"VersionId": details["VersionId"]} if details.get("VersionId") else {"IfMatch": details["ETag"]}
