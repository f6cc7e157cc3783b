"""Instruction files: the crypto metadata of an object kept in a separate object, ``<key>.instruction``.

V1/V2 instruction files hold every crypto key (the plaintext length stays with the object); V3 ones hold the
wrapped key, its wrapping algorithm and its context or material description, while the content algorithm,
commitment and message id stay in the object's metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from s3crypt._errors import FormatError
from s3crypt._format import metadata as meta

DEFAULT_SUFFIX = ".instruction"
MARKER = "x-amz-crypto-instr-file"
"""Metadata that marks an object as an instruction file (written by AWS's clients too)."""

_V3_IN_FILE = frozenset({meta.V3_KEY, meta.V3_WRAP_ALG, meta.V3_KMS_CONTEXT, meta.V3_MATDESC})
_V3_OBJECT_ONLY = frozenset({meta.V3_CONTENT_ALG, meta.V3_COMMITMENT, meta.V3_MESSAGE_ID})
_V2_IN_FILE = (meta.V1_KEYS | meta.V2_KEYS) - {meta.PLAINTEXT_LENGTH}
_ALLOWED_IN_FILE = meta.ALL_KEYS | {MARKER}


def split(envelope_metadata: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The entries that stay in the object's metadata, and those that go into its instruction file."""
    in_file = _V3_IN_FILE if meta.V3_CONTENT_ALG in envelope_metadata else _V2_IN_FILE
    stays = {key: value for key, value in envelope_metadata.items() if key not in in_file}
    moves = {key: value for key, value in envelope_metadata.items() if key in in_file}
    return stays, moves


def needed(object_metadata: Mapping[str, str]) -> bool:
    """Whether the object's metadata lacks its wrapped key, which then lives in an instruction file."""
    keys = {key.lower() for key in object_metadata}
    return not keys & {meta.V3_KEY, meta.KEY_V2, meta.KEY_V1}


def encode(entries: Mapping[str, str]) -> bytes:
    return json.dumps(dict(entries), separators=(",", ":"), ensure_ascii=True).encode("ascii")


def merge(object_metadata: Mapping[str, str], body: bytes, instruction_key: str) -> dict[str, str]:
    """The object's metadata completed with the crypto entries of its instruction file."""
    try:
        entries = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FormatError(f"the instruction file {instruction_key!r} is not valid JSON") from None
    if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
        raise FormatError(f"the instruction file {instruction_key!r} is not a JSON object of strings")
    foreign = sorted(entries.keys() - _ALLOWED_IN_FILE)
    if foreign:
        raise FormatError(
            f"the instruction file {instruction_key!r} holds keys that are not crypto metadata: {foreign}"
        )
    lowered = {key.lower(): value for key, value in object_metadata.items()}
    clashes = sorted(key for key in entries.keys() & lowered.keys() if entries[key] != lowered[key])
    if clashes:
        raise FormatError(f"the instruction file {instruction_key!r} contradicts the object's metadata on {clashes}")
    stays_with_v3_object = sorted(entries.keys() & _V3_OBJECT_ONLY)
    if entries.keys() & _V3_IN_FILE and stays_with_v3_object:
        raise FormatError(
            f"the V3 instruction file {instruction_key!r} holds {stays_with_v3_object}, which the format keeps in "
            "the object's metadata only: it was altered"
        )
    entries.pop(MARKER, None)
    return {**lowered, **entries}
