"""Griffe extension for the docs site: Sphinx roles in docstrings become code, linked where the target is rendered.

The docstrings write cross-references the Sphinx way (``:class:`~s3crypt.KmsKeyring```, ``:meth:`client```),
which Markdown would show as literal text. Each role becomes inline code wrapped in an *optional* autorefs
reference: a link when the target is rendered somewhere in the site, plain code (and no warning) otherwise.
The docstrings themselves are not changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|exc|data|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`")


def _reference(obj: griffe.Object | griffe.Alias, match: re.Match[str]) -> str:
    target = match["target"].strip()
    shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
    first, dot, rest = target.partition(".")
    try:
        identifier = obj.resolve(first) + dot + rest  # "Session.client": resolve "Session", keep ".client"
    except (griffe.NameResolutionError, griffe.AliasResolutionError, KeyError):
        identifier = target  # already a full path, or outside the package (then left unlinked)
    return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'


def _rewrite(obj: griffe.Object | griffe.Alias, seen: set[int]) -> None:
    if id(obj) in seen or obj.is_alias:
        return
    seen.add(id(obj))
    if obj.docstring is not None and ":" in obj.docstring.value:
        scope = obj if obj.is_module or obj.is_class else obj.parent or obj
        obj.docstring.value = _ROLE.sub(lambda match: _reference(scope, match), obj.docstring.value)
    for member in obj.members.values():
        _rewrite(member, seen)


class SphinxRoles(griffe.Extension):
    """Rewrites the Sphinx roles of every docstring of a package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _rewrite(pkg, set())
