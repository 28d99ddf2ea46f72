"""Serving a directory of files: stylesheets, scripts, images, a whole single-page app.

``StaticFiles`` is a plain ASGI app; mount it under a prefix::

    app.mount("/static", StaticFiles("static"))

Files go out through :class:`~plait.responses.FileResponse`, so validators (``ETag``,
``Last-Modified``), ``304 Not Modified``, byte ranges and ``HEAD`` all work.

Security decisions worth knowing:

* **Only what is inside the directory is served.** The request path is split on ``/`` and each
  segment is checked on its own: ``..`` and ``.``, empty segments (``//``), backslashes, colons
  (Windows drive letters and NTFS streams), NUL and other control characters are refused. A
  segment that would turn into any of those if it were percent-decoded once more (``%2e%2e``
  arriving as text after a double encoding) is refused too, so a proxy that decodes twice
  cannot be used to climb out. Then the real path (every symbolic link resolved) must still lie
  inside the real directory, compared component by component, so a sibling directory such as
  ``static-secret`` next to ``static`` is never reachable. Anything refused is a ``404``.
* **Symbolic links** inside the directory are followed when their target is inside the
  directory too. With ``follow_symlinks=True`` a link placed there by the operator may point
  anywhere (a shared ``assets`` folder, say); the request path itself can still never climb out.
* **Hidden files are never served**: any segment starting with ``.`` (``.env``, ``.git/config``,
  ``.htpasswd``) is a ``404``. The single exception is ``.well-known`` (RFC 8615), which holds
  files meant for the public such as ``security.txt`` and certificate challenges.
* Only ``GET`` and ``HEAD`` are answered; anything else is a ``405`` with ``Allow: GET, HEAD``.
  Directories are never listed.
"""

from __future__ import annotations

import os
import stat
from typing import NamedTuple
from urllib.parse import quote, unquote

import anyio.to_thread

from plait._types import Receive, Scope, Send
from plait.datastructures import Headers
from plait.errors import ProblemResponse
from plait.exceptions import ConfigurationError
from plait.http.headers import parse_options_header
from plait.http.urls import same_site_path
from plait.responses import FileResponse, RedirectResponse, Response

__all__ = ["StaticFiles"]

_PUBLIC_HIDDEN = frozenset({".well-known"})
_FORBIDDEN_CHARS = frozenset("\\:\x7f") | frozenset(chr(code) for code in range(32))
_ALLOW = {"Allow": "GET, HEAD"}


class _Found(NamedTuple):
    """A path inside the directory and what ``os.stat`` says about it."""

    path: str
    stat: os.stat_result

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.stat.st_mode)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.stat.st_mode)


def _plain_segment_ok(segment: str) -> bool:
    if segment in ("", ".", ".."):
        return False
    if segment.startswith(".") and segment not in _PUBLIC_HIDDEN:
        return False
    return "/" not in segment and not any(ch in _FORBIDDEN_CHARS for ch in segment)


def _segment_ok(segment: str) -> bool:
    """Whether one path segment is safe, now and after any further percent-decoding.

    >>> _segment_ok("app.css"), _segment_ok(".."), _segment_ok("%2e%2e"), _segment_ok("50%off")
    (True, False, False, True)
    """
    if not _plain_segment_ok(segment):
        return False
    # Each round of decoding makes the text shorter, so this loop ends.
    while "%" in segment and (decoded := unquote(segment)) != segment:
        if not _plain_segment_ok(decoded):
            return False
        segment = decoded
    return True


def safe_segments(path: str) -> list[str] | None:
    """The segments of a request path, or None when the path must be refused.

    A trailing ``/`` is allowed (it asks for a directory); the root ``/`` has no segments.

    >>> safe_segments("/css/site.css"), safe_segments("/docs/"), safe_segments("/")
    (['css', 'site.css'], ['docs'], [])
    >>> safe_segments("/css/../../etc/passwd"), safe_segments("//etc/passwd"), safe_segments("/a\\\\b")
    (None, None, None)
    """
    if not path.startswith("/"):
        return None
    segments = path[1:].split("/")
    if segments[-1] == "":
        segments.pop()
    if all(_segment_ok(segment) for segment in segments):
        return segments
    return None


def _is_inside(root: str, path: str) -> bool:
    """Whether ``path`` is ``root`` or below it, compared by components (never as a string prefix)."""
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:  # paths on different Windows drives
        return False


def _accepts_html(scope: Scope) -> bool:
    """Whether the request's ``Accept`` header asks for HTML (a browser navigating to a page)."""
    accept = Headers(scope.get("headers") or []).get("accept", "")
    for item in accept.split(","):
        media_type, params = parse_options_header(item)
        if media_type == "text/html":
            try:
                return float(params.get("q", "1")) > 0
            except ValueError:
                return False
    return False


class StaticFiles:
    """An ASGI app that serves the files below one directory.

    ``html=True`` serves a directory's ``index`` file (``/docs/`` gives ``docs/index.html``),
    redirects ``/docs`` to ``/docs/`` and answers unknown paths with ``404.html`` from the
    directory when there is one. ``spa_fallback=True`` (which needs ``html=True``) answers a
    browser asking for an unknown page without a file extension with the root ``index`` file, so
    a single-page app can route on the client. ``cache_control`` is sent with every file served
    (``None`` sends none). ``check_dir=False`` allows a directory that is only created after
    startup. See the module documentation for what is refused and why.

    >>> from plait import Plait
    >>> app = Plait()
    >>> app.mount("/static", StaticFiles("static", check_dir=False))
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        html: bool = False,
        index: str = "index.html",
        spa_fallback: bool = False,
        follow_symlinks: bool = False,
        cache_control: str | None = "public, max-age=3600",
        check_dir: bool = True,
    ) -> None:
        self.directory = os.fspath(directory)
        self.html = html
        self.index = index
        self.spa_fallback = spa_fallback
        self.follow_symlinks = follow_symlinks
        self.cache_control = cache_control
        _check_options(self)
        self._root = self._find_root()
        if self._root is None and check_dir:
            raise ConfigurationError(_missing_directory_message(self.directory))

    def _find_root(self) -> str | None:
        real = os.path.realpath(self.directory)
        return real if os.path.isdir(real) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            detail = f"{scope['method']} is not allowed on static files; use GET or HEAD."
            await ProblemResponse(405, detail=detail, headers=_ALLOW)(scope, receive, send)
            return
        # Every file system call for one request happens in a single trip to a worker thread.
        response = await anyio.to_thread.run_sync(self.respond, scope)
        await response(scope, receive, send)

    def respond(self, scope: Scope) -> Response:
        """The response for a GET or HEAD request. Blocking: it looks at the file system."""
        root = self._root
        if root is None:
            # The directory was missing at startup (check_dir=False); it may exist by now.
            root = self._root = self._find_root()
            if root is None:
                return _problem_404()
        path = _mounted_path(scope)
        segments = safe_segments(path or "/")
        if segments is None:
            return self._not_found(root, scope, fallback=False)
        found = self._find(root, segments)
        if found is not None and found.is_file and not path.endswith("/"):
            return self._file(found)
        if found is not None and found.is_dir and self.html:
            index = self._find(root, [*segments, self.index])
            if index is not None and index.is_file:
                if path.endswith("/"):
                    return self._file(index)
                return _add_slash(scope, path)
        return self._not_found(root, scope, fallback=bool(segments) and "." not in segments[-1])

    def _find(self, root: str, segments: list[str]) -> _Found | None:
        """What ``segments`` name below ``root``, or None when missing or outside the directory."""
        try:
            real = os.path.realpath(os.path.join(root, *segments))
            if not self.follow_symlinks and not _is_inside(root, real):
                return None
            return _Found(real, os.stat(real))
        except (OSError, ValueError):  # a name too long, a loop of links, a NUL byte
            return None

    def _file(self, found: _Found, status_code: int = 200) -> Response:
        headers = {"cache-control": self.cache_control} if self.cache_control and status_code == 200 else None
        return FileResponse(found.path, status_code=status_code, headers=headers, stat_result=found.stat)

    def _not_found(self, root: str, scope: Scope, *, fallback: bool) -> Response:
        if fallback and self.spa_fallback and _accepts_html(scope):
            index = self._find(root, [self.index])
            if index is not None and index.is_file:
                return self._file(index)
        if self.html:
            page = self._find(root, ["404.html"])
            if page is not None and page.is_file:
                return self._file(page, status_code=404)
        return _problem_404()


def _problem_404() -> Response:
    return ProblemResponse(404, detail="There is no file at this address.")


def _mounted_path(scope: Scope) -> str:
    """The request path below the mount point: ``""`` for the mount point itself (``/static``).

    ASGI servers and Plait's mounts send ``path`` in full with the prefix in ``root_path``; a
    path that does not start with the prefix is taken to be below it already.

    >>> _mounted_path({"path": "/static/css/a.css", "root_path": "/static"})
    '/css/a.css'
    >>> _mounted_path({"path": "/static", "root_path": "/static"}), _mounted_path({"path": "/a.css"})
    ('', '/a.css')
    """
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and (path == root_path or path.startswith(root_path + "/")):
        return path[len(root_path) :]
    return path


def _add_slash(scope: Scope, path: str) -> Response:
    """Redirect ``/docs`` to ``/docs/`` so that relative links in its index page resolve.

    A temporary redirect: what is a directory today may be a file after the next deploy, and
    browsers remember permanent redirects for good.
    """
    location = quote(scope.get("root_path", "") + path + "/")
    query = scope.get("query_string", b"")
    if query:
        location += "?" + query.decode("latin-1")
    # A path starting "//" would send the browser to another host.
    return RedirectResponse(same_site_path(location), status_code=307)


def _check_options(files: StaticFiles) -> None:
    if files.spa_fallback and not files.html:
        raise ConfigurationError(
            "StaticFiles(spa_fallback=True) needs html=True as well, so that '/' serves the index page; pass html=True."
        )
    if not _plain_segment_ok(files.index):
        raise ConfigurationError(
            f"StaticFiles(index={files.index!r}) must be a plain file name such as 'index.html', "
            "with no slashes and not starting with a dot."
        )


def _missing_directory_message(directory: str) -> str:
    absolute = os.path.abspath(directory)
    problem = "is not a directory" if os.path.exists(absolute) else "does not exist"
    return (
        f"StaticFiles directory {directory!r} {problem} (resolved to {absolute!r} from the working "
        f"directory {os.getcwd()!r}). Create the directory, fix the path (an absolute path, or one "
        "built from Path(__file__).parent, does not depend on where the app is started), or pass "
        "check_dir=False if it is created after startup."
    )
