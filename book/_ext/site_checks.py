"""A local Sphinx extension: small fixes that keep the built site clean in a real browser.

``tests/test_site.py`` opens every page in Chromium and fails on any console error; this
extension removes the causes that come from the theme stack rather than from the book:

- sphinx-thebe registers its inline configuration script (``const THEBE_JS_URL = ...``)
  with Sphinx, and Sphinx 7 emits inline scripts once per registration *and* once per
  builder, so a page declared the same ``const`` twice (a ``SyntaxError`` in the console).
  Identical script entries are dropped here, page by page.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _script_key(script: Any) -> tuple:
    """What makes two script entries the same: file name, and attributes (an inline
    script's code is its ``body`` attribute)."""
    attributes = getattr(script, "attributes", {}) or {}
    # An inline script's file name is None or "", depending on who registered it.
    filename = getattr(script, "filename", script) or ""
    return (str(filename), tuple(sorted(attributes.items())))


def dedupe_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    """Drop repeated entries from the page's ``script_files``, keeping the first of each."""
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
