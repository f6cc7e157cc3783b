"""MkDocs hook: links from a page to files of the repository outside ``docs/`` (``../examples/quickstart.py``).

They work when the Markdown is read in the repository, but the site has no such files. With ``repo_url`` set in
``mkdocs.yml`` they become links to the file in the repository; without it, the link text stays
(with the file's path, unless the text is that path) and the link goes.
Links inside ``docs/`` are left to MkDocs, which checks them.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>\.\./[^)\s#]*)(?P<anchor>#[^)\s]*)?\)")
_FENCE = re.compile(r"^(?P<fence>```|~~~).*?^(?P=fence)\s*$", re.MULTILINE | re.DOTALL)


def on_page_markdown(markdown: str, *, page: Any, config: Any, **kwargs: Any) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    repository = docs_dir.parent
    page_dir = posixpath.dirname(page.file.src_uri)
    repo_url = (config.get("repo_url") or "").rstrip("/")

    def replace(match: re.Match[str]) -> str:
        target = posixpath.normpath(posixpath.join("docs", page_dir, match["target"]))
        if target.startswith(("docs/", "../")) or not (repository / target).exists():
            return match[0]  # inside docs/ (MkDocs checks it), or not a file of the repository
        if not repo_url:
            text = match["text"]
            if text.strip("`").rstrip("/") == target.rstrip("/"):
                return text
            return f"{text} (`{target}` in the repository)"
        kind = "tree" if (repository / target).is_dir() else "blob"
        return f"[{match['text']}]({repo_url}/{kind}/HEAD/{target}{match['anchor'] or ''})"

    pieces = []
    position = 0
    for fence in _FENCE.finditer(markdown):  # leave code blocks alone
        pieces.append(_LINK.sub(replace, markdown[position : fence.start()]))
        pieces.append(fence[0])
        position = fence.end()
    pieces.append(_LINK.sub(replace, markdown[position:]))
    return "".join(pieces)
