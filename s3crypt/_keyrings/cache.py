"""A data-key cache: one KMS data key serves many objects, each still with its own content key (V3 only).

With the V3 suite every object's content key and key commitment come from HKDF over the data key and a fresh
28-byte message id, so objects that share a data key share no content key and stay in the standard format.
On the read side, plaintext data keys are kept by their wrapped form, so reading many objects written under
one cached key costs one KMS ``Decrypt``; the encryption-context check still runs for every object.

The cache is sharded: each shard has its own lock and LRU order, so threads working on different keys do not
wait for one another, and a miss calls KMS under the lock of its entry only, so concurrent misses for one key
make one call.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
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
    """One cached data key and how much it has served; its lock serialises the miss that fills it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data_key: DataKey | None = None
        self.created = 0.0
        self.messages = 0
        self.bytes = 0


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
        entry = self._entry(key)
        with entry.lock:
            now = self._clock()
            hit = entry.data_key is not None and self._usable(entry, now, size)
            if not hit:
                entry.data_key, entry.created, entry.messages, entry.bytes = fetch(), now, 0, 0
            entry.messages += 1
            entry.bytes += size
            assert entry.data_key is not None
            return entry.data_key, hit

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
        if self.cache is None or not suite.is_committing:
            return self._call(self.inner.generate_data_key, suite, encryption_context)
        key = ("encrypt", self._identity, suite, frozenset(encryption_context.items()))
        data_key, hit = self.cache.use(
            key, plaintext_length or 0, lambda: self._call(self.inner.generate_data_key, suite, encryption_context)
        )
        self._note(hit, "encrypt", encryption_context)
        return data_key

    def wrap_data_key(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        return self._call(self.inner.wrap_data_key, data_key, suite, encryption_context)

    def decrypt_data_key(
        self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> bytes:
        self.inner.check(encrypted, suite, encryption_context)  # every object, cached key or not
        if self.cache is None:
            return self._call(self.inner.decrypt_data_key, encrypted, suite, encryption_context)
        # Everything the uncached unwrap checks, so a cached key never opens what the keyring would refuse.
        description = frozenset(encrypted.description.items())
        key = ("decrypt", self._identity, suite, encrypted.wrapping_algorithm, encrypted.ciphertext, description)

        def fetch() -> DataKey:
            plaintext = self._call(self.inner.decrypt_data_key, encrypted, suite, encryption_context)
            return DataKey(plaintext, encrypted)

        data_key, hit = self.cache.use(key, 0, fetch)
        self._note(hit, "decrypt", encryption_context)
        return data_key.plaintext

    def check(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> None:
        self.inner.check(encrypted, suite, encryption_context)

    def _call(self, method: Callable[..., T], *args: Any) -> T:
        if self._calls_kms:
            self.stats.count("kms_calls")
        return method(*args)

    def _note(self, hit: bool, direction: str, encryption_context: Mapping[str, str]) -> None:
        self.stats.count("cache_hits" if hit else "cache_misses")
        logger.debug(
            "data-key cache %s (%s, %r, context keys %s)",
            "hit" if hit else "miss",
            direction,
            self.inner,
            sorted(encryption_context),
        )
