"""The factory: boto3's own S3 client class, built with the :class:`EncryptionClient` mixin, wired to events.

botocore emits ``creating-client-class.s3`` whenever it builds an S3 client class. s3crypt listens on the
boto3 session it is given, but adds its mixin only while *it* is creating a client (a context variable says
so), so plain ``boto3.client("s3")`` clients of the same session stay exactly as boto3 makes them.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import boto3
import boto3.session
from boto3.s3.transfer import TransferConfig
from botocore.client import BaseClient

from s3crypt import _operations
from s3crypt._compat import default_boto3_session
from s3crypt._config import EncryptionConfig
from s3crypt._errors import ConfigurationError
from s3crypt._keyrings.base import Keyring
from s3crypt._keyrings.cache import MeteredKeyring, Stats
from s3crypt._keyrings.kms import KmsKeyring, with_user_agent
from s3crypt._operations.multipart import Uploads
from s3crypt._operations.unhooked import Unhooked
from s3crypt._rewrap import Rewrapper
from s3crypt._transfer import Transfers

_creating = contextvars.ContextVar("s3crypt_creating_client", default=False)
_KMS_CLIENT_KWARGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "verify", "config")


class EncryptionClient:
    """Mixin of every s3crypt S3 client: ``isinstance(client, s3crypt.EncryptionClient)`` tells them apart.

    Its managed transfers replace the ones boto3 injects, with the same signatures.
    """

    _s3crypt_config: EncryptionConfig
    _s3crypt_keyring: MeteredKeyring
    _s3crypt_transfers: Transfers
    _s3crypt_rewrapper: Rewrapper

    @property
    def encryption_config(self) -> EncryptionConfig:
        """The client's encryption options (read-only), with the keyring it was given."""
        return self._s3crypt_config

    @property
    def encryption_stats(self) -> Stats:
        """This client's KMS calls and data-key cache hits and misses so far."""
        return self._s3crypt_keyring.stats

    def upload_file(
        self,
        Filename: str,
        Bucket: str,
        Key: str,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callable[[int], Any] | None = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Encrypt and upload a file, in concurrent parts above ``Config.multipart_threshold``."""
        self._s3crypt_transfers.upload_file(Filename, Bucket, Key, ExtraArgs, Callback, Config)

    def upload_fileobj(
        self,
        Fileobj: IO[bytes],
        Bucket: str,
        Key: str,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callable[[int], Any] | None = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Encrypt and upload a readable stream of any length (it need not seek)."""
        self._s3crypt_transfers.upload_fileobj(Fileobj, Bucket, Key, ExtraArgs, Callback, Config)

    def download_file(
        self,
        Bucket: str,
        Key: str,
        Filename: str,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callable[[int], Any] | None = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Download and decrypt to a file, which appears only once the object has been authenticated."""
        self._s3crypt_transfers.download_file(Bucket, Key, Filename, ExtraArgs, Callback, Config)

    def download_fileobj(
        self,
        Bucket: str,
        Key: str,
        Fileobj: IO[bytes],
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callable[[int], Any] | None = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Download and decrypt into a writable stream; nothing is written before the object is authenticated."""
        self._s3crypt_transfers.download_fileobj(Bucket, Key, Fileobj, ExtraArgs, Callback, Config)

    def copy(
        self,
        CopySource: str | dict[str, str],
        Bucket: str,
        Key: str,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callable[[int], Any] | None = None,
        SourceClient: Any = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Copy an object server-side, in concurrent ``UploadPartCopy`` parts from ``Config.multipart_threshold``.

        An encrypted object keeps its envelope (with ``MetadataDirective=REPLACE`` too, merged with the new
        ``Metadata``), its instruction file is copied to the new key, and an object bound to its location is
        bound to the new one (``EncryptionContext`` in ``ExtraArgs``). Whatever the size, the copy keeps the
        source's metadata, content headers and tags unless told to replace them, as ``copy_object`` does.
        """
        self._s3crypt_transfers.copy(CopySource, Bucket, Key, ExtraArgs, Callback, SourceClient, Config)

    def rewrap_object(
        self,
        *,
        Bucket: str,
        Key: str,
        new_keyring: Keyring,
        EncryptionContext: dict[str, str] | None = None,
        NewEncryptionContext: dict[str, str] | None = None,
        InstructionFileSuffix: str | None = None,
        NewInstructionFileSuffix: str | None = None,
        SSECustomerAlgorithm: str | None = None,
        SSECustomerKey: str | bytes | None = None,
    ) -> dict[str, Any]:
        """Re-wrap the object's data key under ``new_keyring`` without moving its content (key rotation).

        The client's keyring unwraps the key (``EncryptionContext`` is the object's current context);
        ``new_keyring`` wraps it again (with ``NewEncryptionContext``, by default the same context when
        ``new_keyring`` is a KMS keyring, and none for raw keyrings, which bind none). An object whose envelope
        is in its metadata is copied onto itself server-side with the new metadata, keeping its user metadata, content
        headers, tags, storage class and server-side encryption (a new version in a versioned bucket). An
        object with an instruction file, read at ``<Key>`` + ``InstructionFileSuffix`` (``.instruction`` by
        default), gets a new one: at ``<Key>`` + ``NewInstructionFileSuffix`` if given, which leaves the old file
        in place, else over the file it was read from. An SSE-C object needs its ``SSECustomerAlgorithm`` and
        ``SSECustomerKey``, sent to read it and to copy it. Returns the response of the copy, or the new
        instruction file's key.
        """
        sse = {"SSECustomerAlgorithm": SSECustomerAlgorithm, "SSECustomerKey": SSECustomerKey}
        return self._s3crypt_rewrapper.rewrap_object(
            Bucket,
            Key,
            new_keyring,
            EncryptionContext,
            NewEncryptionContext,
            InstructionFileSuffix,
            NewInstructionFileSuffix,
            {name: value for name, value in sse.items() if value is not None},
        )


_MIXIN_METHODS = tuple(name for name in vars(EncryptionClient) if not name.startswith("_"))


def _add_mixin(class_attributes: dict[str, Any], base_classes: list[type], **_: Any) -> None:
    if _creating.get():
        base_classes.insert(0, EncryptionClient)
        for name in _MIXIN_METHODS:  # boto3 injects its own transfer methods as class attributes
            class_attributes.pop(name, None)


@contextmanager
def _creating_encrypted_client() -> Iterator[None]:
    token = _creating.set(True)
    try:
        yield
    finally:
        _creating.reset(token)


class Session:
    """Creates encrypting S3 clients and resources from a boto3 session (by default boto3's default session)."""

    def __init__(self, boto3_session: boto3.session.Session | None = None) -> None:
        self.boto3_session = boto3_session if boto3_session is not None else default_boto3_session()
        self.boto3_session.events.register_last(
            "creating-client-class.s3", _add_mixin, unique_id="s3crypt-encryption-client-mixin"
        )

    def client(
        self, service_name: str, *, keyring: Keyring | None = None, kms_key_id: str | None = None, **kwargs: Any
    ) -> Any:
        """``boto3.client("s3", ...)`` whose objects are encrypted on put and decrypted on get.

        Exactly one of ``keyring`` and ``kms_key_id`` (shorthand for ``KmsKeyring(kms_key_id)``) is required.
        The other encryption options are the fields of :class:`EncryptionConfig` (``algorithm_suite``,
        ``commitment_policy``, ...); every other keyword argument goes to ``boto3.client``.
        """
        config, boto3_kwargs = split_options(service_name, keyring, kms_key_id, kwargs)
        with _creating_encrypted_client():
            client = self.boto3_session.client(service_name, **boto3_kwargs)  # type: ignore[call-overload]
        self._attach(client, config, boto3_kwargs)
        return client

    def resource(
        self, service_name: str, *, keyring: Keyring | None = None, kms_key_id: str | None = None, **kwargs: Any
    ) -> Any:
        """``boto3.resource("s3", ...)`` whose client encrypts (``Object.put``, ``Object.get``, ...).

        Takes the same options as :meth:`client`.
        """
        config, boto3_kwargs = split_options(service_name, keyring, kms_key_id, kwargs)
        with _creating_encrypted_client():
            resource = self.boto3_session.resource(service_name, **boto3_kwargs)  # type: ignore[call-overload]
        self._attach(resource.meta.client, config, boto3_kwargs)
        return resource

    def _attach(self, client: BaseClient, config: EncryptionConfig, client_kwargs: dict[str, Any]) -> None:
        kms_kwargs = {name: client_kwargs[name] for name in _KMS_CLIENT_KWARGS if name in client_kwargs}

        def client_factory(service: str) -> BaseClient:
            config = with_user_agent(kms_kwargs.get("config"))
            return self.boto3_session.client(  # type: ignore[call-overload,no-any-return]
                service, region_name=client.meta.region_name, **{**kms_kwargs, "config": config}
            )

        # The user's config stays as given; the handlers and transfers use its keyring bound to this client's
        # KMS client, metered and served from the data-key cache.
        keyring = MeteredKeyring(config.keyring.bind(client_factory), config.data_key_cache, Stats())
        bound = dataclasses.replace(config, keyring=keyring)
        uploads = Uploads()
        client._s3crypt_config = config  # type: ignore[attr-defined]
        client._s3crypt_keyring = keyring  # type: ignore[attr-defined]
        client._s3crypt_transfers = Transfers(client, bound)  # type: ignore[attr-defined]
        rewrapper = Rewrapper(client, bound, client_factory)
        client._s3crypt_rewrapper = rewrapper  # type: ignore[attr-defined]
        client._s3crypt_unhooked = Unhooked(  # type: ignore[attr-defined]
            functools.partial(self._unhooked_client, client, client_kwargs)
        )
        _operations.register(client, bound, uploads)

    def _unhooked_client(self, client: BaseClient, client_kwargs: dict[str, Any]) -> BaseClient:
        """A plain S3 client like ``client``: same session (so same credentials), region and options."""
        kwargs = {**client_kwargs, "region_name": client.meta.region_name}
        return self.boto3_session.client("s3", **kwargs)


_OPTION_NAMES = frozenset(field.name for field in dataclasses.fields(EncryptionConfig)) - {"keyring"}


def split_options(
    service_name: str, keyring: Keyring | None, kms_key_id: str | None, kwargs: dict[str, Any]
) -> tuple[EncryptionConfig, dict[str, Any]]:
    """The encryption options in ``kwargs`` as a validated config, and the rest for boto3."""
    if service_name != "s3":
        raise ConfigurationError(f"s3crypt encrypts S3 objects only; use boto3 directly for {service_name!r}")
    if (keyring is None) == (kms_key_id is None):
        raise ConfigurationError("pass exactly one of keyring= and kms_key_id=")
    options = {name: value for name, value in kwargs.items() if name in _OPTION_NAMES}
    config = EncryptionConfig(keyring=keyring or KmsKeyring(str(kms_key_id)), **options)
    return config, {name: value for name, value in kwargs.items() if name not in _OPTION_NAMES}


_default_session: Session | None = None
_default_lock = threading.Lock()


def _get_default_session() -> Session:
    global _default_session
    with _default_lock:
        if _default_session is None or _default_session.boto3_session is not default_boto3_session():
            _default_session = Session()
        return _default_session


def client(service_name: str, **kwargs: Any) -> Any:
    """Like ``boto3.client``, with s3crypt's keyword-only encryption options; see :meth:`Session.client`."""
    return _get_default_session().client(service_name, **kwargs)


def resource(service_name: str, **kwargs: Any) -> Any:
    """Like ``boto3.resource``, with s3crypt's encryption options; see :meth:`Session.resource`."""
    return _get_default_session().resource(service_name, **kwargs)
