"""Strawberry on Litestar: ``make_graphql_controller`` with a generator context getter owning the session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from blog import engine
from litestar import Litestar
from peer_schema import loaders, schema
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.litestar import make_graphql_controller

make_session = async_sessionmaker(engine(), expire_on_commit=False)


async def get_context() -> AsyncIterator[dict[str, Any]]:
    async with make_session() as session:
        yield loaders(session)


GraphQLController = make_graphql_controller(schema, path="/graphql", context_getter=get_context, graphql_ide=None)
app = Litestar(route_handlers=[GraphQLController])
