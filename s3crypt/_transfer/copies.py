"""Managed copies: one ``copy_object`` below the multipart threshold, else a multipart copy.

:mod:`s3crypt._operations.copy` decides what the copy keeps or rewrites of the envelope; this module carries the
plan out.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from s3crypt._core import copy as core_copy
from s3crypt._core.transfers import part_size
from s3crypt._operations import copy
from s3crypt._transfer.utils import Transfer, concurrency, report

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig


class Copier:
    """The managed copies of one encrypting client, with ``ExtraArgs`` already checked."""

    def __init__(self, client: Any, config: EncryptionConfig) -> None:
        self._client = client
        self._config = config

    def copy(
        self,
        source: str | Mapping[str, str],
        source_client: Any,
        transfer: Transfer,
    ) -> None:
        bucket, key, args, config = transfer.bucket, transfer.key, transfer.args, transfer.config
        source_bucket, source_key, version = core_copy.copy_source(source)
        versioned = {"VersionId": version} if version else {}
        head = (source_client or self._client).head_object(
            Bucket=source_bucket, Key=source_key, **versioned, **core_copy.source_sse(args)
        )
        size: int = head["ContentLength"]
        if size < config.multipart_threshold:  # copy_object's own handler keeps the envelope
            self._client.copy_object(CopySource=source, Bucket=bucket, Key=key, **args)
            report(transfer.callback, size)
            return
        user_context, suffix = copy.take_copy_parameters(self._config, args)
        origin, destination = (source_bucket, source_key), (bucket, key)
        plan = copy.plan(self._config, self._client, head, origin, destination, user_context, suffix)
        create_args, part_args = core_copy.multipart_arguments(plan, head, args, (*origin, version), destination)
        if args.get("TaggingDirective") != "REPLACE":
            tags = self._client.get_object_tagging(Bucket=source_bucket, Key=source_key, **versioned)["TagSet"]
            if tags:
                create_args["Tagging"] = urllib.parse.urlencode([(tag["Key"], tag["Value"]) for tag in tags])
        on_part = functools.partial(report, transfer.callback)
        copy.copy_in_parts(
            self._client,
            create_args,
            part_args,
            size,
            part_size(size, config.multipart_chunksize),
            concurrency=concurrency(config),
            on_part=on_part,
        )
        if plan is not None:
            copy.finish(self._client, plan, destination)
