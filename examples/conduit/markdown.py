"""Article bodies: markdown rendered by markdown-it-py, then sanitised by nh3 (ammonia).

Two layers, because a blog renders what strangers write. markdown-it-py runs with ``html=False``, so
raw HTML in the markdown comes out as text, never as tags; nh3 then keeps only an allow-list of
tags and attributes and only ``http``, ``https`` and ``mailto`` links (a ``javascript:`` URL written
as a markdown link is dropped), and marks links ``rel="noopener noreferrer nofollow"``. Neither is
hand-written HTML sanitising.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["render_markdown"]

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "li",
    "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}, "code": {"class"}}


def render_markdown(text: str) -> Markup:
    """Safe HTML for ``text`` (markdown), ready for a template.

    >>> str(render_markdown("**Hi** <script>alert(1)</script>"))
    '<p><strong>Hi</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>\\n'
    """
    html = _parser.render(text or "")
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # noqa: S704 - sanitised by nh3 just above
