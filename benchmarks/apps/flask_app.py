"""The benchmark endpoints in Flask (WSGI): pydantic for the body, plain calls for "dependencies".

CORS and compression come from the extensions Flask's documentation points to (Flask-Cors,
Flask-Compress); the security headers from an ``after_request`` hook.
"""

from __future__ import annotations

from typing import Any

import shared
from flask import Blueprint, Flask, Response, jsonify, request
from flask_compress import Compress
from flask_cors import CORS
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

app = Flask(__name__)


@app.get("/json")
def json_hello() -> Any:
    return {"message": shared.MESSAGE}


@app.get("/plaintext")
def plaintext() -> Any:
    return shared.MESSAGE, 200, {"content-type": "text/plain; charset=utf-8"}


@app.get("/users/<int:user_id>")
def user(user_id: int) -> Any:
    return {"id": user_id}


@app.get("/search")
def search() -> Any:
    q = request.args.get("q")
    page = request.args.get("page", 1, type=int)
    limit = request.args.get("limit", 10, type=int)
    if q is None:
        return "bad query", 422
    return {"q": q, "page": page, "limit": limit}


@app.post("/orders")
def create_order() -> Any:
    try:
        order = Order.model_validate_json(request.get_data())
    except ValidationError as exc:
        return jsonify(exc.errors(include_url=False)), 422
    total = round(sum(line.quantity * line.price for line in order.items), 2)
    return {"customer": order.customer.name, "items": len(order.items), "total": total}


@app.get("/nested")
def nested() -> Any:
    return jsonify(RECORDS)


def level1() -> int:
    return 1


def level2() -> int:
    return level1() + 1


def level3() -> int:
    return level2() + 1


@app.get("/deps")
def dependencies() -> Any:
    return {"depth": level3()}


@app.get("/headers")
def headers_and_cookies() -> Any:
    name, value = shared.TRACE_HEADER
    response = jsonify({"ok": True})
    response.headers[name] = value
    response.headers["cache-control"] = shared.CACHE_CONTROL
    response.set_cookie(*shared.SESSION_COOKIE, httponly=True)
    response.set_cookie(*shared.THEME_COOKIE)
    return response


@app.post("/upload")
def upload() -> Any:
    file = request.files.get(shared.UPLOAD_FIELD)
    if file is None:
        return "no file", 422
    return {"filename": file.filename, "size": len(file.read())}


def item_handler(index: int) -> Any:
    def item(item_id: int) -> Any:
        return {"route": index, "id": item_id}

    return item


routes = Blueprint("routes", __name__)
for i in range(shared.ROUTE_COUNT):
    routes.add_url_rule(f"{shared.route_path(i)}/<int:item_id>", f"route{i}", item_handler(i))
app.register_blueprint(routes)

# -- the middleware scenario -----------------------------------------------------------------------

MIDDLEWARE_PAYLOAD = shared.middleware_payload()

mw_app = Flask(__name__)
mw_app.config.update(
    COMPRESS_ALGORITHM="gzip",
    COMPRESS_LEVEL=shared.GZIP_LEVEL,
    COMPRESS_MIN_SIZE=shared.GZIP_MINIMUM_SIZE,
)
CORS(mw_app, origins=[shared.CORS_ORIGIN])
Compress(mw_app)


@mw_app.after_request
def security_headers(response: Response) -> Response:
    response.headers.update(shared.SECURITY_HEADERS)
    return response


@mw_app.get("/mw")
def payload() -> Any:
    return MIDDLEWARE_PAYLOAD
