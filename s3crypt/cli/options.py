"""Options several commands share."""

from __future__ import annotations

import click


def _parse_context(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """The repeated ``--encryption-context KEY=VALUE`` options as a dict."""
    context: dict[str, str] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", ctx=ctx, param=param)
        if key in context:
            raise click.BadParameter(f"the key {key!r} is given twice", ctx=ctx, param=param)
        context[key] = text
    return context


context_option = click.option(
    "--encryption-context",
    "encryption_context",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_parse_context,
    help="An entry of the encryption context (repeatable); reads need the context the object was written with.",
)
