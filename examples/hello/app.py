"""Hello, Plait: a small app showing the basics. ``make demo`` serves it on http://127.0.0.1:8000.

Try it::

    plait run examples/hello/app.py:app
    curl http://127.0.0.1:8000/
    curl http://127.0.0.1:8000/hello/Ada
    curl 'http://127.0.0.1:8000/search?q=tea&limit=5'
    curl -X POST http://127.0.0.1:8000/items -H 'content-type: application/json' -d '{"name": "tea", "price": 3.5}'
    curl http://127.0.0.1:8000/api/me -H 'x-user: ada'

Interactive docs (served from the app itself, no internet needed): http://127.0.0.1:8000/docs
and http://127.0.0.1:8000/redoc.
"""

from typing import Annotated

import msgspec

from plait.app import Plait
from plait.di import Depends
from plait.exceptions import HTTPException
from plait.params import Header, Query
from plait.routing import Router

app = Plait(title="Hello, Plait")


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "Hello, world!"}


# A path parameter: /hello/Ada
@app.get("/hello/{name}")
def hello(name: str) -> dict[str, str]:
    return {"message": f"Hello, {name}!"}


# Query parameters with constraints: a bad value gets a 422 that names the parameter.
@app.get("/search")
def search(
    q: Annotated[str, Query(min_length=1, max_length=50)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, str | int]:
    return {"q": q, "limit": limit}


# A JSON body decoded and validated into a struct; the handler answers 201 Created.
class Item(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    price: Annotated[float, msgspec.Meta(ge=0)]
    tags: list[str] = []


@app.post("/items", status_code=201)
def create_item(item: Item) -> Item:
    return item


# A dependency: any handler that takes a CurrentUser gets it, or the request gets a 401.
def current_user(x_user: Annotated[str | None, Header()] = None) -> str:
    if not x_user:
        raise HTTPException(401, "Say who you are with an X-User header.")
    return x_user


CurrentUser = Annotated[str, Depends(current_user)]

# A router: its routes live under the prefix given when it is included.
api = Router(name="api")


@api.get("/me")
def me(user: CurrentUser) -> dict[str, str]:
    return {"user": user}


app.include_router(api, prefix="/api")
