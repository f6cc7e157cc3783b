"""In-process AES-256-GCM throughput of s3crypt's streams against raw `cryptography`, without S3.

Usage: python benches/bench_crypto.py [--size-mib 256] [--repeats 5]

Every measurement reads the whole message in 1 MiB chunks from a buffer prepared in advance, so the time is the
crypto and the stream's own overhead. The raw baseline is one GCM context with ``update_into`` into a reused
1 MiB buffer. ``bench_put_get.py`` prints the same table after its S3 measurements. See benches/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import resource
import statistics
import time
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.ciphers import AEADCipherContext, Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from s3crypt._crypto.content import ContentCipher, content_cipher
from s3crypt._crypto.streams import AuthenticatedReader, DelayedAuthReader, EncryptingStream, GcmMessage
from s3crypt._crypto.suites import GCM_TAG_LENGTH, AlgorithmSuite

CHUNK = 1024 * 1024
TARGET = 0.5  # of raw AES-GCM throughput
DEFAULT_REPEATS = 5
SUITE = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY


@dataclasses.dataclass(frozen=True)
class Message:
    """One plaintext, its ciphertext (content || tag) and the cipher that relates them."""

    plaintext: bytes
    ciphertext: bytes
    cipher: ContentCipher


@dataclasses.dataclass(frozen=True)
class Measurement:
    direction: str
    name: str
    run: Callable[[Message], None]


def new_message(size: int) -> Message:
    cipher = content_cipher(SUITE, os.urandom(32), os.urandom(SUITE.iv_length))
    plaintext = os.urandom(size)
    return Message(plaintext, AESGCM(cipher.key).encrypt(cipher.nonce, plaintext, cipher.aad), cipher)


def raw_gcm(context: AEADCipherContext, source: memoryview) -> None:
    """The baseline: ``update_into`` a reused buffer, 1 MiB at a time, then the tag."""
    buffer = bytearray(CHUNK + 15)
    for offset in range(0, len(source), CHUNK):
        context.update_into(source[offset : offset + CHUNK], buffer)
    context.finalize()


def raw_encrypt(message: Message) -> None:
    context = Cipher(algorithms.AES(message.cipher.key), modes.GCM(message.cipher.nonce)).encryptor()
    context.authenticate_additional_data(message.cipher.aad)
    raw_gcm(context, memoryview(message.plaintext))


def raw_decrypt(message: Message) -> None:
    tag = message.ciphertext[-GCM_TAG_LENGTH:]
    context = Cipher(algorithms.AES(message.cipher.key), modes.GCM(message.cipher.nonce, tag)).decryptor()
    context.authenticate_additional_data(message.cipher.aad)
    raw_gcm(context, memoryview(message.ciphertext)[:-GCM_TAG_LENGTH])


def drain(stream: io.RawIOBase, expected: int) -> None:
    received = 0
    while chunk := stream.read(CHUNK):
        received += len(chunk)
    stream.close()
    if received != expected:
        raise RuntimeError(f"{type(stream).__name__} gave {received} bytes instead of {expected}")


def encrypting_stream(message: Message) -> None:
    size = len(message.plaintext)
    drain(
        EncryptingStream(io.BytesIO(message.plaintext), size, GcmMessage(message.cipher, size)), size + GCM_TAG_LENGTH
    )


def authenticated_reader(message: Message) -> None:
    reader = AuthenticatedReader(io.BytesIO(message.ciphertext), len(message.ciphertext), message.cipher)
    drain(reader, len(message.plaintext))


def delayed_auth_reader(message: Message) -> None:
    drain(
        DelayedAuthReader(io.BytesIO(message.ciphertext), len(message.ciphertext), message.cipher),
        len(message.plaintext),
    )


RAW = "raw AES-GCM, update_into"
MEASUREMENTS = (
    Measurement("encrypt", RAW, raw_encrypt),
    Measurement("encrypt", "EncryptingStream", encrypting_stream),
    Measurement("decrypt", RAW, raw_decrypt),
    Measurement("decrypt", "AuthenticatedReader (default 32 MiB in memory)", authenticated_reader),
    Measurement("decrypt", "DelayedAuthReader", delayed_auth_reader),
)


@dataclasses.dataclass(frozen=True)
class Sample:
    seconds: float
    page_faults: int


def minor_page_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def take_sample(run: Callable[[Message], None], message: Message) -> Sample:
    faults, start = minor_page_faults(), time.perf_counter()
    run(message)
    return Sample(time.perf_counter() - start, minor_page_faults() - faults)


def measure(size: int, repeats: int) -> dict[Measurement, Sample]:
    """Median time and page faults of each measurement; the rounds interleave them so drift hits all alike."""
    message = new_message(size)
    samples: dict[Measurement, list[Sample]] = {measurement: [] for measurement in MEASUREMENTS}
    for _ in range(repeats):
        for measurement in MEASUREMENTS:
            samples[measurement].append(take_sample(measurement.run, message))
    return {
        measurement: Sample(
            statistics.median(s.seconds for s in values), int(statistics.median(s.page_faults for s in values))
        )
        for measurement, values in samples.items()
    }


def table(medians: dict[Measurement, Sample], size: int) -> str:
    raw = {m.direction: sample.seconds for m, sample in medians.items() if m.name == RAW}
    lines = [
        f"| direction | implementation | s | GB/s | vs raw | ≥ {TARGET:.0%} of raw | page faults / MiB |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for measurement, sample in medians.items():
        ratio = raw[measurement.direction] / sample.seconds
        verdict = "" if measurement.name == RAW else ("yes" if ratio >= TARGET else "**no**")
        gb_per_s, faults_per_mib = size / 1e9 / sample.seconds, sample.page_faults / (size / CHUNK)
        lines.append(
            f"| {measurement.direction} | {measurement.name} | {sample.seconds:.3f} | {gb_per_s:.2f} "
            f"| {ratio:.0%} | {verdict} | {faults_per_mib:.1f} |"
        )
    return "\n".join(lines)


def report(size_mib: int, repeats: int) -> str:
    size = size_mib * CHUNK
    heading = f"In-process crypto, {size_mib} MiB message, 1 MiB reads, medians of {repeats} (GB/s = 10^9 bytes/s)"
    return f"{heading}\n\n{table(measure(size, repeats), size)}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=256, help="message size in MiB (default 256)")
    parser.add_argument(
        "--repeats", type=int, default=DEFAULT_REPEATS, help=f"rounds over all measurements (default {DEFAULT_REPEATS})"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.size_mib < 1 or args.repeats < 1:
        raise SystemExit("--size-mib and --repeats must be at least 1")
    print(report(args.size_mib, args.repeats))


if __name__ == "__main__":
    main()
