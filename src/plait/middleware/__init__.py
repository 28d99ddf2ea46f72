"""Middleware that ship with Plait: plain ASGI classes, each ``cls(app, **options)``.

Add them to the app, or to one router to wrap only its routes::

    app = Plait(middleware=[Middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.0/8"])])
    app.add_middleware(GZipMiddleware, minimum_size=500)
    api.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])

The first middleware in the list (or the first added) is the outermost. A sensible order,
outermost first: ``ProxyHeadersMiddleware`` (so the rest see the real client and scheme),
``TrustedHostMiddleware``, ``HTTPSRedirectMiddleware``, ``RequestIDMiddleware``,
``AccessLogMiddleware``, ``SecurityHeadersMiddleware``, ``CORSMiddleware``, then
``GZipMiddleware`` / ``CompressionMiddleware``.
"""

from plait.middleware.access_log import AccessLogMiddleware
from plait.middleware.cors import CORSMiddleware
from plait.middleware.gzip import CompressionMiddleware, GZipMiddleware
from plait.middleware.hosts import TrustedHostMiddleware
from plait.middleware.https import HTTPSRedirectMiddleware
from plait.middleware.proxy import ProxyHeadersMiddleware
from plait.middleware.request_id import RequestIDMiddleware, current_request_id
from plait.middleware.security import SecurityHeadersMiddleware
from plait.routing.stack import Middleware

__all__ = [
    "AccessLogMiddleware",
    "CORSMiddleware",
    "CompressionMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "Middleware",
    "ProxyHeadersMiddleware",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "TrustedHostMiddleware",
    "current_request_id",
]
