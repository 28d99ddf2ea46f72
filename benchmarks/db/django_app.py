"""The TechEmpower database tests in Django: the ORM in async views, served over ASGI.

Plain ``async def`` views with the ORM's async methods (``aget``, ``abulk_update``, ``async for``),
``JsonResponse``, and the fortunes page through Django's own template engine (``render``, the cached
loader production Django uses, autoescape on). Settings live in this module (it is also the URLconf).

Connections: on PostgreSQL, psycopg 3 with Django's connection pool (``OPTIONS["pool"]``, Django 5.1+),
4 connections per worker; persistent connections (``CONN_MAX_AGE``) cannot be combined with the pool,
and Django's docs advise against them under ASGI, where each request runs its ORM calls in a thread
of its own. On SQLite, Django's default: a connection per request. ``BENCH_DB`` picks the backend.
"""

from __future__ import annotations

from typing import Any

import django
import tfb
from django.conf import settings

LOCMEM = ("django.template.loaders.locmem.Loader", {"fortunes.html": tfb.FORTUNES_TEMPLATE})
LOADERS = [("django.template.loaders.cached.Loader", [LOCMEM])]
POSTGRES: dict[str, Any] = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "test",
    "USER": "postgres",
    "HOST": "127.0.0.1",
    "PORT": "5432",
    "OPTIONS": {"pool": {"min_size": tfb.POOL_SIZE, "max_size": tfb.POOL_SIZE}},
}
SQLITE: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tfb.SQLITE_PATH)}

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only-not-a-secret",  # noqa: S106 - signs nothing here
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={"default": POSTGRES if tfb.backend() == "postgres" else SQLITE},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "OPTIONS": {"loaders": LOADERS}}],
    USE_TZ=True,
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402 - needs the settings above
from django.db import models  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402


class World(models.Model):
    id = models.IntegerField(primary_key=True)
    randomnumber = models.IntegerField()

    class Meta:
        app_label = "tfb"
        db_table = tfb.WORLD_TABLE


class Fortune(models.Model):
    id = models.IntegerField(primary_key=True)
    message = models.CharField(max_length=2048)

    class Meta:
        app_label = "tfb"
        db_table = tfb.FORTUNE_TABLE


def _count(request: HttpRequest) -> int:
    return tfb.query_count(request.GET.get("queries"))


async def single(request: HttpRequest) -> HttpResponse:
    world = await World.objects.aget(id=tfb.random_id())
    return JsonResponse({"id": world.id, "randomNumber": world.randomnumber})


async def queries(request: HttpRequest) -> HttpResponse:
    worlds = [await World.objects.aget(id=world_id) for world_id in tfb.random_ids(_count(request))]
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds], safe=False)


async def updates(request: HttpRequest) -> HttpResponse:
    worlds = [await World.objects.aget(id=world_id) for world_id in sorted(tfb.random_ids(_count(request)))]
    for world in worlds:
        world.randomnumber = tfb.new_number(world.randomnumber)
    await World.objects.abulk_update(worlds, ["randomnumber"])  # one UPDATE ... CASE statement
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds], safe=False)


async def fortunes(request: HttpRequest) -> HttpResponse:
    rows = [(fortune.id, fortune.message) async for fortune in Fortune.objects.all()]
    return render(request, "fortunes.html", {"fortunes": tfb.sorted_fortunes(rows)})


urlpatterns = [
    path("db", single),
    path("queries", queries),
    path("updates", updates),
    path("fortunes", fortunes),
]
app = get_asgi_application()
