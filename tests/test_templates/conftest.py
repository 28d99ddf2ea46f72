"""A small site on disk for the template tests: templates and static files in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "templates/base.html": (
                "<!doctype html><title>{% block title %}Site{% endblock %}</title>"
                '<link rel="stylesheet" href="{{ static("css/site.css") }}">'
                "<main>{% block main %}{% endblock %}</main>"
            ),
            "templates/article.html": (
                '{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}'
                "{% block main %}<h1>{{ title }}</h1><p>{{ request.path }}</p>"
                '<a href="{{ url_for("article", id=7) }}">again</a>{% endblock %}'
            ),
            "templates/missing_var.html": "line one\n{{ tilte }}\n",
            "templates/loop.html": "{% for a in artcles %}{{ a }}{% endfor %}",
            "templates/guarded.html": (
                '{% if flash %}{{ flash }}{% endif %}|{{ subtitle | default("none") }}|'
                "{% if user is defined %}user{% else %}anonymous{% endif %}"
            ),
            "templates/broken.html": "ok\n{% if %}\n",
            "templates/includes_missing.html": '{% include "partials/gone.html" %}',
            "templates/mail.txt": "Hello {{ name }}, welcome to {{ site_name }}.",
            "static/css/site.css": "body { color: teal }\n",
        },
    )
