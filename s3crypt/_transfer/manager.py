"""The facade of the managed transfers: boto3's signatures, ``ExtraArgs`` checked, then the transfer handed on."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig

from s3crypt._transfer.copies import Copier
from s3crypt._transfer.download import Downloader
from s3crypt._transfer.extra_args import COPY_ARGS, DOWNLOAD_ARGS, UPLOAD_ARGS, ExtraArgs, checked
from s3crypt._transfer.upload import Uploader
from s3crypt._transfer.utils import Callback, Transfer

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig


class Transfers:
    """The managed transfers of one encrypting client."""

    def __init__(self, client: Any, config: EncryptionConfig) -> None:
        self._uploader = Uploader(client, config)
        self._downloader = Downloader(client, config)
        self._copier = Copier(client, config)

    def upload_file(
        self,
        filename: str | os.PathLike[str],
        bucket: str,
        key: str,
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        self._uploader.upload_file(filename, checked_transfer(bucket, key, extra_args, UPLOAD_ARGS, callback, config))

    def upload_fileobj(
        self,
        fileobj: IO[bytes],
        bucket: str,
        key: str,
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        self._uploader.upload_fileobj(fileobj, checked_transfer(bucket, key, extra_args, UPLOAD_ARGS, callback, config))

    def copy(
        self,
        source: str | Mapping[str, str],
        bucket: str,
        key: str,
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        source_client: Any,
        config: TransferConfig | None,
    ) -> None:
        self._copier.copy(source, source_client, checked_transfer(bucket, key, extra_args, COPY_ARGS, callback, config))

    def download_file(
        self,
        bucket: str,
        key: str,
        filename: str | os.PathLike[str],
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        self._downloader.download_file(
            filename, checked_transfer(bucket, key, extra_args, DOWNLOAD_ARGS, callback, config)
        )

    def download_fileobj(
        self,
        bucket: str,
        key: str,
        fileobj: IO[bytes],
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        self._downloader.download_fileobj(
            fileobj, checked_transfer(bucket, key, extra_args, DOWNLOAD_ARGS, callback, config)
        )


def checked_transfer(
    bucket: str,
    key: str,
    extra_args: Mapping[str, Any] | None,
    allowed: ExtraArgs,
    callback: Callback,
    config: TransferConfig | None,
) -> Transfer:
    """A transfer of either client: its ``ExtraArgs`` checked before anything is sent, ``TransferConfig()`` if none."""
    return Transfer(bucket, key, checked(extra_args, allowed), callback, config or TransferConfig())
