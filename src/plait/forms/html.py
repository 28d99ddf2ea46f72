"""Safe HTML strings for form rendering: ``Markup`` and ``escape``, from MarkupSafe when it is installed.

Jinja2 (``pip install 'plait[templates]'``) brings MarkupSafe; rendered fields are then its
``Markup``, so ``{{ form }}`` and ``{{ form["title"] }}`` need no ``|safe`` and never get escaped
twice. Without it, :class:`SafeText` plays the same part: a ``str`` whose ``__html__`` says it is
already HTML, the protocol every template engine honours.

>>> str(escape('<script>alert("x")</script>'))
'&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;'
>>> str(attributes({"name": "title", "required": True, "disabled": False, "value": 'a"b'}))
' name="title" required value="a&#34;b"'
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any


class SafeText(str):
    """A string of HTML that needs no further escaping (used when MarkupSafe is not installed).

    >>> SafeText("<b>hi</b>").__html__()
    '<b>hi</b>'
    """

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def escape_text(value: Any) -> SafeText:
    """``value`` as HTML text: objects with ``__html__`` are kept, anything else is escaped (quotes too).

    >>> escape_text("<a href='x'>"), escape_text(SafeText("<br>"))
    ('&lt;a href=&#39;x&#39;&gt;', '<br>')
    """
    if hasattr(value, "__html__"):
        return SafeText(value.__html__())
    # Quotes are escaped too: the same function fills attribute values, and an unescaped quote
    # there would let a submitted value close the attribute and add an onfocus= of its own.
    return SafeText(html.escape(str(value), quote=True).replace("&#x27;", "&#39;").replace("&quot;", "&#34;"))


try:
    from markupsafe import Markup as _Markup
    from markupsafe import escape as _escape
except ImportError:  # pragma: no cover - MarkupSafe comes with jinja2, which the test environment has
    _Markup = SafeText  # type: ignore[assignment,misc]
    _escape = escape_text  # type: ignore[assignment]

Markup: Callable[[str], str] = _Markup
"""Marks a string as safe HTML (``markupsafe.Markup`` when installed, else :class:`SafeText`)."""
escape: Callable[[Any], str] = _escape
"""Escapes text for HTML, keeping objects that have ``__html__`` (MarkupSafe's, else :func:`escape_text`)."""


def join(parts: list[str]) -> str:
    """Concatenate already-safe HTML pieces into one safe string."""
    return Markup("".join(str(part) for part in parts))


def attributes(attrs: Mapping[str, Any]) -> str:
    """Render ``attrs`` as `` name="value"`` pairs: True is a bare attribute, False and None are left out."""
    out: list[str] = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {escape(name)}")
        else:
            out.append(f' {escape(name)}="{escape(value)}"')
    return Markup("".join(out))


def tag(name: str, attrs: Mapping[str, Any], content: str | None = None) -> str:
    """One element: ``<name attrs>`` for a void element (``content=None``), else with escaped content.

    >>> str(tag("option", {"value": "1", "selected": True}, "<One>"))
    '<option value="1" selected>&lt;One&gt;</option>'
    """
    opening = f"<{name}{attributes(attrs)}>"
    if content is None:
        return Markup(opening)
    return Markup(f"{opening}{escape(content)}</{name}>")
