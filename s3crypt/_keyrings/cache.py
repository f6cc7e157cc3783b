"""A data-key cache: one KMS data key serves many objects, each still with its own content key (V3 only).

With the V3 suite every object's content key and key commitment come from HKDF over the data key and a fresh
28-byte message id, so objects that share a data key share no content key and stay in the standard format.
On the read side, plaintext data keys are kept by their wrapped form, so reading many objects written under
one cached key costs one KMS ``Decrypt``; the encryption-context check still runs for every object.

The cache is sharded: each shard has its own lock and LRU order, so threads working on different keys do not
wait for one another. A miss is filled by one caller, outside every lock; concurrent misses for the same key
wait for its call (threads on a future, asyncio tasks awaiting it, so the event loop never blocks on KMS), so
they make one call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, TypeVar

from s3crypt._crypto.suites import AlgorithmSuite
from s3crypt._errors import ConfigurationError
from s3crypt._format.metadata import EncryptedDataKey
from s3crypt._keyrings.base import DataKey, Keyring

logger = logging.getLogger("s3crypt.cache")
T = TypeVar("T")
_SHARDS = 16


@dataclasses.dataclass
class Stats:
    """What one client's keyring did: KMS calls made, and data-key cache hits and misses."""

    kms_calls: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def count(self, name: str) -> None:
        """Add one to the counter ``name``."""
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class _Entry:
    """One cached data key and how much it has served; ``filling`` is set while one caller fetches a new key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data_key: DataKey | None = None
        self.created = 0.0
        self.messages = 0
        self.bytes = 0
        self.filling: concurrent.futures.Future[None] | None = None


class DataKeyCache:
    """Plaintext data keys kept for reuse, within limits; share it between clients and threads.

    A key is used for at most ``max_age_seconds`` after KMS made or decrypted it, for at most ``max_messages``
    objects and ``max_bytes`` bytes of plaintext (``None``: no limit); at most ``capacity`` keys are kept, the
    least recently used going first. Share a cache only between clients that hold the same KMS permissions:
    a key it holds opens objects without asking KMS again.
    """

    def __init__(
        self,
        max_age_seconds: float = 300.0,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        capacity: int = 1000,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age_seconds <= 0:
            raise ConfigurationError("max_age_seconds must be positive")
        for name, limit in (("max_messages", max_messages), ("max_bytes", max_bytes)):
            if limit is not None and limit < 1:
                raise ConfigurationError(f"{name} must be at least 1, or None for no limit")
        if capacity < 1:
            raise ConfigurationError("capacity must be at least 1")
        self.max_age_seconds = max_age_seconds
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.capacity = capacity
        self._clock = clock
        shards = min(_SHARDS, capacity)
        self._shard_capacity = capacity // shards  # so the shards together never hold more than capacity
        self._shards = [(threading.Lock(), OrderedDict[Hashable, _Entry]()) for _ in range(shards)]

    def __repr__(self) -> str:
        return (
            f"DataKeyCache(max_age_seconds={self.max_age_seconds}, max_messages={self.max_messages}, "
            f"max_bytes={self.max_bytes}, capacity={self.capacity})"
        )

    def __len__(self) -> int:
        return sum(len(entries) for _, entries in self._shards)

    def clear(self) -> None:
        """Drop every key."""
        for lock, entries in self._shards:
            with lock:
                entries.clear()

    def use(self, key: Hashable, size: int, fetch: Callable[[], DataKey]) -> tuple[DataKey, bool]:
        """The data key cached under ``key`` for one more object of ``size`` bytes, or a new one from ``fetch``;
        and whether it came from the cache."""
        while True:
            entry = self._entry(key)
            data_key, filling = self._claim(entry, size)
            if data_key is not None:
                return data_key, True
            if filling is not None:  # another caller is fetching this key: wait for it, then look again
                concurrent.futures.wait([filling])
                continue
            try:
                data_key = fetch()
            finally:
                self._fill(entry, size, data_key)
            return data_key, False

    async def use_async(
        self, key: Hashable, size: int, fetch: Callable[[], Awaitable[DataKey]]
    ) -> tuple[DataKey, bool]:
        """:meth:`use` for asyncio tasks: waiting for another caller's fetch never blocks the event loop."""
        while True:
            entry = self._entry(key)
            data_key, filling = self._claim(entry, size)
            if data_key is not None:
                return data_key, True
            if filling is not None:
                await asyncio.wrap_future(filling)
                continue
            try:
                data_key = await fetch()
            finally:
                self._fill(entry, size, data_key)
            return data_key, False

    def _claim(self, entry: _Entry, size: int) -> tuple[DataKey | None, concurrent.futures.Future[None] | None]:
        """A usable cached key (counted for this object); else the fetch to wait for; else (None, None): the
        caller fetches, and must :meth:`_fill` the entry whatever happens."""
        with entry.lock:
            if entry.data_key is not None and self._usable(entry, self._clock(), size):
                entry.messages += 1
                entry.bytes += size
                return entry.data_key, None
            if entry.filling is not None:
                return None, entry.filling
            entry.filling = concurrent.futures.Future()
            return None, None

    def _fill(self, entry: _Entry, size: int, data_key: DataKey | None) -> None:
        """End a fetch: keep its key (None when it failed), and wake the callers waiting for it."""
        with entry.lock:
            if data_key is not None:
                entry.data_key, entry.created, entry.messages, entry.bytes = data_key, self._clock(), 1, size
            filling, entry.filling = entry.filling, None
        assert filling is not None
        filling.set_result(None)

    def _drop_expired(self, entries: OrderedDict[Hashable, _Entry]) -> None:
        """Forget the least recently used keys that are past their age, so expired keys leave memory."""
        deadline = self._clock() - self.max_age_seconds
        while entries:
            oldest = next(iter(entries.values()))
            if oldest.data_key is None or oldest.created > deadline:
                return
            entries.popitem(last=False)

    def _usable(self, entry: _Entry, now: float, size: int) -> bool:
        return (
            now - entry.created < self.max_age_seconds
            and (self.max_messages is None or entry.messages < self.max_messages)
            and (self.max_bytes is None or entry.bytes + size <= self.max_bytes)
        )

    def _entry(self, key: Hashable) -> _Entry:
        lock, entries = self._shards[hash(key) % len(self._shards)]
        with lock:
            self._drop_expired(entries)
            entry = entries.get(key)
            if entry is None:
                entry = entries[key] = _Entry()
                if len(entries) > self._shard_capacity:
                    entries.popitem(last=False)
            else:
                entries.move_to_end(key)
            return entry


class MeteredKeyring(Keyring):
    """One client's view of its keyring, held privately by the client: counts its KMS calls and, with a cache,
    serves data keys from it."""

    def __init__(self, inner: Keyring, cache: DataKeyCache | None, stats: Stats) -> None:
        self.inner = inner
        self.cache = cache
        self.stats = stats
        self._identity = inner.cache_identity()
        self._calls_kms = inner.calls_kms
        self.binds_encryption_context = inner.binds_encryption_context  # type: ignore[misc]

    def __repr__(self) -> str:
        return repr(self.inner)

    def generate_data_key(
        self, suite: AlgorithmSuite, encryption_context: Mapping[str, str], plaintext_length: int | None = None
    ) -> DataKey:
        key = self.encrypt_cache_key(suite, encryption_context)
        if self.cache is None or key is None:
            return self._call(self.inner.generate_data_key, suite, encryption_context)
        data_key, hit = self.cache.use(
            key, plaintext_length or 0, lambda: self._call(self.inner.generate_data_key, suite, encryption_context)
        )
        self.note(hit, "encrypt", encryption_context)
        return data_key

    def encrypt_cache_key(self, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> Hashable | None:
        """What a new data key for ``suite`` and ``encryption_context`` is cached under; None when it is not."""
        if self.cache is None or not suite.is_committing:
            return None
        return ("encrypt", self._identity, suite, frozenset(encryption_context.items()))

    def decrypt_cache_key(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite) -> Hashable | None:
        """What the unwrapped ``encrypted`` is cached under; None without a cache. It holds everything the
        uncached unwrap checks, so a cached key never opens what the keyring would refuse."""
        if self.cache is None:
            return None
        description = frozenset(encrypted.description.items())
        return ("decrypt", self._identity, suite, encrypted.wrapping_algorithm, encrypted.ciphertext, description)

    def wrap_data_key(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        return self._call(self.inner.wrap_data_key, data_key, suite, encryption_context)

    def decrypt_data_key(
        self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> bytes:
        self.inner.check(encrypted, suite, encryption_context)  # every object, cached key or not
        key = self.decrypt_cache_key(encrypted, suite)
        if self.cache is None or key is None:
            return self._call(self.inner.decrypt_data_key, encrypted, suite, encryption_context)

        def fetch() -> DataKey:
            plaintext = self._call(self.inner.decrypt_data_key, encrypted, suite, encryption_context)
            return DataKey(plaintext, encrypted)

        data_key, hit = self.cache.use(key, 0, fetch)
        self.note(hit, "decrypt", encryption_context)
        return data_key.plaintext

    def check(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> None:
        self.inner.check(encrypted, suite, encryption_context)

    def _call(self, method: Callable[..., T], *args: Any) -> T:
        self.count_call()
        return method(*args)

    def count_call(self) -> None:
        """Count one call of the inner keyring, if it calls KMS."""
        if self._calls_kms:
            self.stats.count("kms_calls")

    def note(self, hit: bool, direction: str, encryption_context: Mapping[str, str]) -> None:
        self.stats.count("cache_hits" if hit else "cache_misses")
        logger.debug(
            "data-key cache %s (%s, %r, context keys %s)",
            "hit" if hit else "miss",
            direction,
            self.inner,
            sorted(encryption_context),
        )
