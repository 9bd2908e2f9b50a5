"""A local Sphinx extension: small fixes that keep the built site clean and offline.

``tests/test_site.py`` opens every page in Chromium and fails on any console error or any
request that leaves the site; this extension removes the causes that come from the theme
stack rather than from the book:

- sphinx-thebe registers its inline configuration script (``const THEBE_JS_URL = ...``)
  with Sphinx, and Sphinx 7 emits inline scripts once per registration *and* once per
  builder, so a page declared the same ``const`` twice (a ``SyntaxError`` in the console).
  Identical script entries are dropped here, page by page.
- With thebe off (``launch_buttons: thebe: false`` in ``_config.yml``), nothing on a page
  can start thebe, yet every page still carried its loader, whose only job is to fetch
  thebe from a CDN. Its script, stylesheet and configuration are dropped, so no page
  refers to a resource on another host.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

THEBE_ASSETS = ("sphinx-thebe.js", "sphinx-thebe.css")


def _script_key(script: Any) -> tuple:
    """What makes two script entries the same: file name, and attributes (an inline
    script's code is its ``body`` attribute)."""
    attributes = getattr(script, "attributes", {}) or {}
    # An inline script's file name is None or "", depending on who registered it.
    filename = getattr(script, "filename", script) or ""
    return (str(filename), tuple(sorted(attributes.items())))


def _is_thebe(asset: Any) -> bool:
    """Whether a script or stylesheet entry is sphinx-thebe's loader or its configuration."""
    filename, attributes = _script_key(asset)
    return filename.endswith(THEBE_ASSETS) or "THEBE_JS_URL" in str(dict(attributes))


def _thebe_enabled(app: Sphinx) -> bool:
    """Whether thebe's launch button is on (Jupyter Book passes it in the theme options)."""
    options = app.config.html_theme_options or {}
    return bool(options.get("launch_buttons", {}).get("thebe"))


def clean_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    """Drop repeated script entries (keeping the first of each) and, with thebe off,
    sphinx-thebe's assets, from the page's ``script_files`` and ``css_files``."""
    drop_thebe = not _thebe_enabled(app)
    seen: set[tuple] = set()
    scripts = []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key in seen or (drop_thebe and _is_thebe(script)):
            continue
        seen.add(key)
        scripts.append(script)
    context["script_files"] = scripts
    if drop_thebe:
        context["css_files"] = [c for c in context.get("css_files", []) if not _is_thebe(c)]


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", clean_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
