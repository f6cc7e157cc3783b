"""The public surface is ``s3crypt.__all__``: every name in it is there, and no module of the package is named
like one of them, so that no import replaces a public name by a module (or the other way round)."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

import s3crypt


def test_every_public_name_is_defined() -> None:
    assert sorted(s3crypt.__all__) == s3crypt.__all__
    for name in s3crypt.__all__:
        assert hasattr(s3crypt, name), name


@pytest.mark.parametrize("name", [name for name in s3crypt.__all__ if not name.startswith("__")])
def test_no_module_is_named_like_a_public_name(name: str) -> None:
    assert importlib.util.find_spec(f"s3crypt.{name}") is None


def test_s3crypt_client_is_the_factory_whatever_is_imported() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("s3crypt.client")
    for module in ("s3crypt._client", "s3crypt.transfer", "s3crypt.keyrings", "s3crypt.cli"):
        importlib.import_module(module)
    assert callable(s3crypt.client)
    assert s3crypt.client.__name__ == "client"
    assert callable(s3crypt.resource)
