"""The benchmark endpoints in Django (WSGI), with minimal settings kept in this module.

Django's settings are global to a process, so ``app`` and ``mw_app`` are built on first access
(PEP 562 module ``__getattr__``): a server process loads one of them and configures Django for it.
The middleware scenario uses Django's own GZip, Security and X-Frame-Options middleware, and
django-cors-headers for CORS, as Django projects do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shared
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_POST
from pydantic import BaseModel, ValidationError


class Line(BaseModel):
    sku: str
    quantity: int
    price: float


class Customer(BaseModel):
    name: str
    email: str


class Order(BaseModel):
    customer: Customer
    items: list[Line]
    note: str = ""


RECORDS = shared.nested_records()
MIDDLEWARE_PAYLOAD = shared.middleware_payload()


@require_GET
def json_hello(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"message": shared.MESSAGE})


@require_GET
def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(shared.MESSAGE, content_type="text/plain; charset=utf-8")


@require_GET
def user(request: HttpRequest, user_id: int) -> HttpResponse:
    return JsonResponse({"id": user_id})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    try:
        q = request.GET["q"]
        page = int(request.GET.get("page", 1))
        limit = int(request.GET.get("limit", 10))
    except (KeyError, ValueError):
        return HttpResponse("bad query", status=422)
    return JsonResponse({"q": q, "page": page, "limit": limit})


@require_POST
def create_order(request: HttpRequest) -> HttpResponse:
    try:
        order = Order.model_validate_json(request.body)
    except ValidationError as exc:
        return JsonResponse(exc.errors(include_url=False), status=422, safe=False)
    total = round(sum(line.quantity * line.price for line in order.items), 2)
    return JsonResponse({"customer": order.customer.name, "items": len(order.items), "total": total})


@require_GET
def nested(request: HttpRequest) -> HttpResponse:
    return JsonResponse(RECORDS, safe=False)


def level1() -> int:
    return 1


def level2() -> int:
    return level1() + 1


def level3() -> int:
    return level2() + 1


@require_GET
def dependencies(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"depth": level3()})


@require_GET
def headers_and_cookies(request: HttpRequest) -> HttpResponse:
    name, value = shared.TRACE_HEADER
    response = JsonResponse({"ok": True}, headers={name: value, "cache-control": shared.CACHE_CONTROL})
    response.set_cookie(*shared.SESSION_COOKIE, httponly=True)
    response.set_cookie(*shared.THEME_COOKIE)
    return response


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    file = request.FILES.get(shared.UPLOAD_FIELD)
    if file is None:
        return HttpResponse("no file", status=422)
    return JsonResponse({"filename": file.name, "size": len(file.read())})


@require_GET
def payload(request: HttpRequest) -> HttpResponse:
    return JsonResponse(MIDDLEWARE_PAYLOAD)


def item_handler(index: int) -> Callable[..., HttpResponse]:
    @require_GET
    def item(request: HttpRequest, item_id: int) -> HttpResponse:
        return JsonResponse({"route": index, "id": item_id})

    return item


urlpatterns: list[URLPattern] = [
    path("json", json_hello),
    path("plaintext", plaintext),
    path("users/<int:user_id>", user),
    path("search", search),
    path("orders", create_order),
    path("nested", nested),
    path("deps", dependencies),
    path("headers", headers_and_cookies),
    path("upload", upload),
    path("mw", payload),
    *(path(f"{shared.route_path(i)[1:]}/<int:item_id>", item_handler(i)) for i in range(shared.ROUTE_COUNT)),
]

BASE_SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "benchmark-only-not-a-secret",
    "ALLOWED_HOSTS": ["*"],
    "ROOT_URLCONF": __name__,
    "INSTALLED_APPS": [],
    "MIDDLEWARE": [],
    "DATABASES": {},
    "USE_TZ": True,
}
MIDDLEWARE_SETTINGS: dict[str, Any] = {
    "INSTALLED_APPS": ["corsheaders"],
    "MIDDLEWARE": [
        "corsheaders.middleware.CorsMiddleware",
        "django.middleware.gzip.GZipMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    "CORS_ALLOWED_ORIGINS": [shared.CORS_ORIGIN],
    "SECURE_CONTENT_TYPE_NOSNIFF": True,
    "SECURE_REFERRER_POLICY": shared.SECURITY_HEADERS["referrer-policy"],
    "X_FRAME_OPTIONS": shared.SECURITY_HEADERS["x-frame-options"],
}


def build(with_middleware: bool) -> Any:
    import django
    from django.core.wsgi import get_wsgi_application

    settings.configure(**(BASE_SETTINGS | (MIDDLEWARE_SETTINGS if with_middleware else {})))
    django.setup()
    return get_wsgi_application()


def __getattr__(name: str) -> Any:
    if name in ("app", "mw_app"):
        application = build(with_middleware=name == "mw_app")
        globals()[name] = application
        return application
    raise AttributeError(name)
