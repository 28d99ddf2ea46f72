"""The templates settings, read from ``PLAIT_TEMPLATES_*`` variables."""

from __future__ import annotations

import msgspec


class TemplatesSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Every field is a ``PLAIT_`` variable (``PLAIT_TEMPLATES_AUTO_RELOAD``).

    >>> TemplatesSettings().templates_auto_reload is None
    True
    """

    templates_auto_reload: bool | None = None
    """Re-read a template (and re-hash a static file) when its file changes; unset: on when the app is in
    debug. ``Templates(auto_reload=...)`` wins over it. A development server can turn it on for every app."""
