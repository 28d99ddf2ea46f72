"""Cache-busting for static files: ``static("css/site.css")`` -> ``/static/css/site.css?v=3f2a9c01b7e4``."""

from __future__ import annotations

import hashlib
import os

from plait.staticfiles import safe_segments

__all__ = ["StaticVersions"]

_CHUNK = 64 * 1024


class StaticVersions:
    """A short content hash per static file, computed once per file (again when it changes, with ``check``).

    The hash goes in the query string: the file keeps its name, a browser or CDN that caches it for
    long fetches it again the moment its content changes, and nothing needs a build step.

    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> _ = (pathlib.Path(folder) / "site.css").write_text("body { color: teal }")
    >>> StaticVersions().version(folder, "site.css")
    '56728551dac9'
    >>> StaticVersions().version(folder, "missing.css") is None
    True
    """

    __slots__ = ("_cache", "check")

    def __init__(self, *, check: bool = False) -> None:
        self.check = check  # look at the file's size and time again on each call (auto reload)
        self._cache: dict[tuple[str, str], tuple[tuple[int, int], str]] = {}

    def version(self, folder: str, path: str) -> str | None:
        """The hash of ``folder/path``; None when there is no such file (the link then shows the 404)."""
        key = (folder, path)
        cached = self._cache.get(key)
        if cached is not None and not self.check:
            return cached[1]
        segments = safe_segments("/" + path.lstrip("/"))
        if not segments:  # a path that climbs out or hides a trick is never read
            return None
        full = os.path.join(folder, *segments)
        try:
            info = os.stat(full)
        except OSError:
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        digest = _hash(full)
        if digest is not None:
            self._cache[key] = (stamp, digest)
        return digest


def _hash(path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except OSError:  # a directory, or a file gone since the stat
        return None
    return digest.hexdigest()[:12]
