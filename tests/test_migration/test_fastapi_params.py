"""FastAPI tutorial programs (parameters, bodies, models) moved to Plait with the imports renamed."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from plait import Body, Cookie, Header, Path, Plait, Query
from plait.testing import TestClient


class ModelName(str, Enum):  # noqa: UP042  # the tutorial's spelling, kept on purpose
    alexnet = "alexnet"
    resnet = "resnet"
    lenet = "lenet"


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None


class Image(BaseModel):
    url: str
    name: str


class Offer(BaseModel):
    name: str
    price: float = Field(gt=0, description="The price must be greater than zero")
    tags: set[str] = set()
    images: list[Image] | None = None


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}
    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    tags: list[str] = []


class CommonHeaders(BaseModel):
    host: str
    save_data: bool
    x_tag: list[str] = []


class Cookies(BaseModel):
    model_config = {"extra": "forbid"}
    session_id: str
    fatebook_tracker: str | None = None


class User(BaseModel):
    username: str
    full_name: str | None = None


def test_path_parameters_with_types_and_enums() -> None:
    app = Plait()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/models/{model_name}")
    async def get_model(model_name: ModelName) -> dict[str, str]:
        if model_name is ModelName.alexnet:
            return {"model_name": model_name, "message": "Deep Learning FTW!"}
        return {"model_name": model_name, "message": "Have some residuals"}

    @app.get("/files/{file_path:path}")
    async def read_file(file_path: str) -> dict[str, str]:
        return {"file_path": file_path}

    with TestClient(app) as client:
        assert client.get("/items/3").json() == {"item_id": 3}
        bad = client.get("/items/foo")
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["path", "item_id"]
        assert client.get("/models/alexnet").json()["message"] == "Deep Learning FTW!"
        assert client.get("/models/resnet").json() == {"model_name": "resnet", "message": "Have some residuals"}
        assert client.get("/models/vgg").status_code == 422
        assert client.get("/files//home/johndoe/myfile.txt").json() == {"file_path": "/home/johndoe/myfile.txt"}
        enum_schema = client.get("/openapi.json").json()["components"]["schemas"]["ModelName"]
        assert enum_schema["enum"] == ["alexnet", "resnet", "lenet"]


def test_query_parameters_defaults_optional_and_bool() -> None:
    app = Plait()
    fake_items_db = [{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]

    @app.get("/items/")
    async def read_items(skip: int = 0, limit: int = 10) -> list[dict[str, str]]:
        return fake_items_db[skip : skip + limit]

    @app.get("/users/{user_id}/items/{item_id}")
    async def read_user_item(user_id: int, item_id: str, q: str | None = None, short: bool = False) -> dict[str, Any]:
        item: dict[str, Any] = {"item_id": item_id, "owner_id": user_id}
        if q:
            item["q"] = q
        if not short:
            item["description"] = "This is an amazing item that has a long description"
        return item

    @app.get("/needy/{item_id}")
    async def read_needy(item_id: str, needy: str) -> dict[str, str]:
        return {"item_id": item_id, "needy": needy}

    with TestClient(app) as client:
        assert client.get("/items/?skip=1&limit=1").json() == [{"item_name": "Bar"}]
        assert client.get("/items/").json() == fake_items_db
        short = client.get("/users/1/items/foo?q=x&short=yes").json()
        assert short == {"item_id": "foo", "owner_id": 1, "q": "x"}
        for spelling in ("1", "True", "true", "on", "yes"):
            assert "description" not in client.get(f"/users/1/items/a?short={spelling}").json()
        missing = client.get("/needy/foo")
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["loc"] == ["query", "needy"]
        assert missing.json()["errors"][0]["type"] == "missing"


def test_query_validations_with_query_markers() -> None:
    app = Plait()

    @app.get("/items/")
    async def read_items(
        q: Annotated[str | None, Query(min_length=3, max_length=50, pattern="^fixedquery$")] = None,
    ) -> dict[str, Any]:
        return {"q": q}

    @app.get("/required/")
    async def required(q: str = Query(..., min_length=3)) -> dict[str, str]:
        return {"q": q}

    @app.get("/list/")
    async def many(q: Annotated[list[str], Query()] = ["foo", "bar"]) -> dict[str, list[str]]:  # noqa: B006
        return {"q": q}

    @app.get("/alias/")
    async def alias(
        q: Annotated[
            str | None,
            Query(alias="item-query", title="Query string", description="Search text", deprecated=True),
        ] = None,
    ) -> dict[str, str | None]:
        return {"q": q}

    @app.get("/hidden/")
    async def hidden(hidden_query: Annotated[str | None, Query(include_in_schema=False)] = None) -> dict[str, Any]:
        return {"hidden_query": hidden_query or "Not found"}

    with TestClient(app) as client:
        assert client.get("/items/?q=fixedquery").json() == {"q": "fixedquery"}
        assert client.get("/items/?q=fi").status_code == 422
        assert client.get("/items/?q=nonfixed").status_code == 422
        assert client.get("/items/").json() == {"q": None}
        assert client.get("/required/").status_code == 422
        assert client.get("/required/?q=abc").json() == {"q": "abc"}
        assert client.get("/list/?q=a&q=b").json() == {"q": ["a", "b"]}
        assert client.get("/list/").json() == {"q": ["foo", "bar"]}
        assert client.get("/alias/?item-query=x").json() == {"q": "x"}
        assert client.get("/hidden/?hidden_query=y").json() == {"hidden_query": "y"}
        document = client.get("/openapi.json").json()
    alias_param = document["paths"]["/alias/"]["get"]["parameters"][0]
    assert alias_param["name"] == "item-query"
    assert alias_param["deprecated"] is True
    assert alias_param["description"] == "Search text"
    assert (
        "parameters" not in document["paths"]["/hidden/"]["get"]
        or not document["paths"]["/hidden/"]["get"]["parameters"]
    )


def test_path_validations_numbers() -> None:
    app = Plait()

    @app.get("/items/{item_id}")
    async def read_items(
        item_id: Annotated[int, Path(title="The ID of the item to get", ge=1, le=1000)],
        q: str,
        size: Annotated[float, Query(gt=0, lt=10.5)] = 1.0,
    ) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "size": size}

    with TestClient(app) as client:
        assert client.get("/items/5?q=x&size=2.5").json() == {"item_id": 5, "q": "x", "size": 2.5}
        assert client.get("/items/0?q=x").status_code == 422
        assert client.get("/items/5?q=x&size=11").status_code == 422
        document = client.get("/openapi.json").json()
    item_id = document["paths"]["/items/{item_id}"]["get"]["parameters"][0]
    assert item_id["schema"]["minimum"] == 1
    assert item_id["schema"]["maximum"] == 1000


def test_request_body_with_path_and_query() -> None:
    app = Plait()

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item, q: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {"item_id": item_id, **item.model_dump()}
        if q:
            result.update({"q": q})
        return result

    @app.post("/items/")
    async def create_item(item: Item) -> dict[str, Any]:
        item_dict = item.model_dump()
        if item.tax is not None:
            item_dict.update({"price_with_tax": item.price + item.tax})
        return item_dict

    with TestClient(app) as client:
        answer = client.put("/items/3?q=hi", json={"name": "Foo", "price": 1.5})
        assert answer.json() == {"item_id": 3, "name": "Foo", "description": None, "price": 1.5, "tax": None, "q": "hi"}
        created = client.post("/items/", json={"name": "Foo", "price": 2.0, "tax": 0.5})
        assert created.status_code == 200
        assert created.json()["price_with_tax"] == 2.5
        bad = client.post("/items/", json={"name": "Foo", "price": "cheap"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["body", "price"]
        document = client.get("/openapi.json").json()
    body = document["paths"]["/items/"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}


def test_multiple_body_parameters_and_singular_values() -> None:
    app = Plait()

    @app.put("/items/{item_id}")
    async def update_item(
        item_id: int, item: Item, user: User, importance: Annotated[int, Body(gt=0)], q: str | None = None
    ) -> dict[str, Any]:
        return {"item_id": item_id, "item": item.model_dump(), "user": user.model_dump(), "importance": importance}

    @app.put("/embedded/{item_id}")
    async def embedded(item_id: int, item: Annotated[Item, Body(embed=True)]) -> dict[str, Any]:
        return {"item_id": item_id, "item": item.model_dump()}

    with TestClient(app) as client:
        payload = {
            "item": {"name": "Foo", "price": 42.0},
            "user": {"username": "dave"},
            "importance": 5,
        }
        answer = client.put("/items/5", json=payload)
        assert answer.status_code == 200
        assert answer.json()["user"] == {"username": "dave", "full_name": None}
        assert answer.json()["importance"] == 5
        bad = client.put("/items/5", json={**payload, "importance": 0})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["body", "importance"]
        nested = client.put("/items/5", json={**payload, "item": {"name": "Foo"}})
        assert nested.json()["errors"][0]["loc"] == ["body", "item", "price"]
        answer = client.put("/embedded/1", json={"item": {"name": "Foo", "price": 1.0}})
        assert answer.json()["item"]["name"] == "Foo"
        assert client.put("/embedded/1", json={"name": "Foo", "price": 1.0}).status_code == 422


def test_body_fields_and_nested_models() -> None:
    app = Plait()

    @app.post("/offers/")
    async def create_offer(offer: Offer) -> Offer:
        return offer

    @app.post("/index-weights/")
    async def create_index_weights(weights: dict[int, float]) -> dict[int, float]:
        return weights

    with TestClient(app) as client:
        answer = client.post(
            "/offers/", json={"name": "o", "price": 3, "tags": ["a", "a"], "images": [{"url": "u", "name": "n"}]}
        )
        assert answer.json() == {"name": "o", "price": 3.0, "tags": ["a"], "images": [{"url": "u", "name": "n"}]}
        assert client.post("/offers/", json={"name": "o", "price": -1}).json()["errors"][0]["loc"] == [
            "body",
            "price",
        ]
        assert client.post("/index-weights/", json={"1": 0.5, "2": 1.5}).json() == {"1": 0.5, "2": 1.5}
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Offer"]
    assert schema["properties"]["price"]["description"] == "The price must be greater than zero"


def test_header_and_cookie_parameters() -> None:
    app = Plait()

    @app.get("/items/")
    async def read_items(
        user_agent: Annotated[str | None, Header()] = None,
        x_token: Annotated[list[str] | None, Header()] = None,
        ads_id: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, Any]:
        return {"User-Agent": user_agent, "X-Token values": x_token, "ads_id": ads_id}

    @app.get("/strange/")
    async def strange(strange_header: Annotated[str | None, Header(convert_underscores=False)] = None) -> Any:
        return {"strange_header": strange_header}

    with TestClient(app) as client:
        client.cookies.set("ads_id", "abc")
        answer = client.get("/items/", headers=[("user-agent", "ua"), ("x-token", "foo"), ("x-token", "bar")]).json()
        assert answer == {"User-Agent": "ua", "X-Token values": ["foo", "bar"], "ads_id": "abc"}
        assert client.get("/strange/", headers={"strange_header": "x"}).json() == {"strange_header": "x"}


def test_header_cookie_and_query_parameter_models_forbid_extra() -> None:
    app = Plait()

    @app.get("/items/")
    async def read_items(filter_query: Annotated[FilterParams, Query()]) -> FilterParams:
        return filter_query

    @app.get("/headers/")
    async def read_headers(headers: Annotated[CommonHeaders, Header()]) -> CommonHeaders:
        return headers

    @app.get("/cookies/")
    async def read_cookies(cookies: Annotated[Cookies, Cookie()]) -> Cookies:
        return cookies

    with TestClient(app) as client:
        assert client.get("/items/?limit=5&tags=a&tags=b").json() == {"limit": 5, "offset": 0, "tags": ["a", "b"]}
        extra = client.get("/items/?tool=plumbus")
        assert extra.status_code == 422
        assert extra.json()["errors"][0]["loc"] == ["query", "tool"]
        answer = client.get("/headers/", headers=[("save-data", "true"), ("x-tag", "a"), ("x-tag", "b")]).json()
        assert answer == {"host": "testserver", "save_data": True, "x_tag": ["a", "b"]}
        client.cookies.set("session_id", "123")
        assert client.get("/cookies/").json() == {"session_id": "123", "fatebook_tracker": None}
        client.cookies.set("santa_tracker", "good-list-please")
        forbidden = client.get("/cookies/")
        assert forbidden.status_code == 422
        assert forbidden.json()["errors"][0]["loc"] == ["cookie", "santa_tracker"]


@pytest.mark.parametrize("method", ["get", "delete"])
def test_list_of_scalars_is_read_from_the_query(method: str) -> None:
    app = Plait()

    @app.route("/tags", methods=[method.upper()])
    def tags(tags: list[str] = []) -> list[str]:  # noqa: B006  # the habit under test: copied per request
        tags.append("seen")
        return tags

    with TestClient(app) as client:
        assert client.request(method, "/tags?tags=a&tags=b").json() == ["a", "b", "seen"]
        assert client.request(method, "/tags").json() == ["seen"]
        assert client.request(method, "/tags").json() == ["seen"]
