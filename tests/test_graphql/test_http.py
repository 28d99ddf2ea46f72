"""GraphQL over HTTP on SQLite and PostgreSQL: queries, mutations, validation errors, GET rules, uploads."""

from __future__ import annotations

from typing import Any

import pytest

from plait.testing import TestClient

CREATE = """mutation ($data: ArticleInput!) { createArticle(data: $data) { id title status views author { name } } }"""


def gql(client: TestClient, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables}, **kw)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_list_filter_order_and_paginate(client: TestClient) -> None:
    for index, title in enumerate(["Gamma", "alpha", "Beta"]):
        created = gql(client, CREATE, {"data": {"title": title, "views": index * 10, "status": "live"}})
        assert created["data"]["createArticle"]["title"] == title
        assert created["data"]["createArticle"]["author"] is None
    listed = gql(client, '{ articles(order: "-views") { total limit offset items { title views } } }')
    page = listed["data"]["articles"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 20, 0)
    assert [item["title"] for item in page["items"]] == ["Beta", "alpha", "Gamma"]
    found = gql(client, '{ articles(where: {title__contains: "A", views__gte: 15}) { items { title } } }')
    assert [a["title"] for a in found["data"]["articles"]["items"]] == ["Beta"]
    window = gql(client, '{ articles(limit: 1, offset: 1, order: "views") { items { title } limit } }')
    assert window["data"]["articles"] == {"items": [{"title": "alpha"}], "limit": 1}
    capped = gql(client, "{ articles(limit: 1000) { limit } }")
    assert capped["data"]["articles"]["limit"] == 100


def test_refused_order_and_filters_are_user_errors(client: TestClient) -> None:
    refused = gql(client, '{ articles(order: "body") { total } }')
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Cannot order by 'body'" in refused["errors"][0]["message"]
    unknown = gql(client, '{ articles(where: {body: "x"}) { total } }')
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    too_big = gql(client, "{ articles(where: {views: 2147483647}, limit: 0) { total } }")
    assert too_big["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_get_update_delete_and_not_found(client: TestClient) -> None:
    ident = gql(client, CREATE, {"data": {"title": "Hello"}})["data"]["createArticle"]["id"]
    got = gql(client, "query ($id: Int!) { article(id: $id) { title status body } }", {"id": ident})
    assert got["data"]["article"] == {"title": "Hello", "status": "draft", "body": ""}
    assert gql(client, "{ article(id: 999) { title } }")["data"]["article"] is None
    update = "mutation ($id: Int!, $data: ArticlePatch!) { updateArticle(id: $id, data: $data) { title views } }"
    changed = gql(client, update, {"id": ident, "data": {"views": 7}})
    assert changed["data"]["updateArticle"] == {"title": "Hello", "views": 7}
    missing = gql(client, update, {"id": 999, "data": {"views": 1}})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert gql(client, f"mutation {{ deleteArticle(id: {ident}) }}")["data"]["deleteArticle"] is True
    assert gql(client, "{ articles { total } }")["data"]["articles"]["total"] == 0


def test_mutation_validation_errors_name_the_field_and_roll_back(client: TestClient) -> None:
    too_long = gql(client, CREATE, {"data": {"title": "x" * 21}})
    error = too_long["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("title: Expected `str` of length <= 20")
    assert error["extensions"]["fields"][0]["loc"] == ["data", "title"]
    gql(client, CREATE, {"data": {"title": "Once"}})
    duplicate = gql(client, CREATE, {"data": {"title": "Once"}})
    assert duplicate["errors"][0]["extensions"]["code"] == "CONFLICT"
    both = 'mutation { a: createArticle(data: {title: "Twice"}) { id } b: createArticle(data: {title: "Once"}) { id } }'
    assert gql(client, both)["errors"][0]["extensions"]["code"] == "CONFLICT"
    # The operation failed, so the first mutation of it was rolled back too: one transaction.
    assert gql(client, "{ articles { total } }")["data"]["articles"]["total"] == 1


def test_resolvers_take_plait_dependencies(client: TestClient) -> None:
    assert gql(client, "{ method(shout: true) authorCount }")["data"] == {"method": "POST", "authorCount": 0}
    response = client.get("/graphql", params={"query": "{ method }"})
    assert response.json() == {"data": {"method": "get"}}


def test_get_runs_queries_only(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "mutation { deleteArticle(id: 1) }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    variables = client.get(
        "/graphql", params={"query": "query ($s: Boolean!) { method(shout: $s) }", "variables": '{"s": true}'}
    )
    assert variables.json() == {"data": {"method": "GET"}}
    assert client.get("/graphql", params={"query": "{ method }", "variables": "{nope"}).status_code == 400
    assert client.get("/graphql").status_code == 400  # no query, and GraphiQL is off in production


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"{ method }", "headers": {"content-type": "text/plain"}}, 415),
        ({"content": b"[1]", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"{oops", "headers": {"content-type": "application/json"}}, 400),
        ({"json": {"query": 3}}, 400),
        ({"json": {"query": "{ method }", "variables": [1]}}, 400),
        ({"json": {"query": "{ method }", "operationName": 5}}, 400),
        ({"json": {"query": "subscription { forever }"}}, 400),
    ],
)
def test_bad_requests_are_4xx(client: TestClient, kwargs: dict[str, Any], status: int) -> None:
    response = client.post("/graphql", **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_errors_are_masked_in_production(client: TestClient) -> None:
    body = gql(client, "{ boom }")
    assert body["errors"][0]["message"] == "Internal server error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "SELECT" not in str(body)
    assert "Traceback" not in str(body)
    (refused,) = gql(client, "{ teapot }")["errors"]
    assert (refused["message"], refused["extensions"]) == ("Already brewing.", {"code": "CONFLICT"})


def test_uploads_follow_the_multipart_spec(client: TestClient) -> None:
    operations = '{"query": "mutation ($f: Upload!) { upload(file: $f) }", "variables": {"f": null}}'
    form = {"operations": operations, "map": '{"0": ["variables.f"]}'}
    files = {"0": ("a.txt", b"hello", "text/plain")}
    refused = client.post("/graphql", data=form, files=files)
    assert refused.status_code == 400  # no preflight header: a cross-site form could have sent it
    headers = {"GraphQL-Require-Preflight": "1"}
    response = client.post("/graphql", data=form, files=files, headers=headers)
    assert response.json() == {"data": {"upload": "a.txt:hello"}}
    many = {
        "operations": '{"query": "mutation ($f: [Upload!]!) { uploads(files: $f) }", "variables": {"f": [null, null]}}',
        "map": '{"a": ["variables.f.0"], "b": ["variables.f.1"]}',
    }
    two = {"a": ("1.txt", b"1", "text/plain"), "b": ("2.txt", b"2", "text/plain")}
    assert client.post("/graphql", data=many, files=two, headers=headers).json() == {
        "data": {"uploads": ["1.txt", "2.txt"]}
    }
    for bad_map in ('{"0": ["query"]}', '{"0": ["variables.g"]}', '{"9": ["variables.f"]}', '{"0": []}', "[]", "{"):
        bad = client.post("/graphql", data={**form, "map": bad_map}, files=files, headers=headers)
        assert bad.status_code == 400, bad_map


def test_sibling_fields_share_the_session_safely(client: TestClient) -> None:
    query = "{ a: authorCount articles { total items { title author { name } } } b: authorCount c: authorCount }"
    for _ in range(3):
        body = gql(client, query)
        assert body == {"data": {"a": 0, "articles": {"total": 0, "items": []}, "b": 0, "c": 0}}
