"""Strawberry on FastAPI: ``GraphQLRouter`` with a context getter taking the session from a yield dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from blog import engine
from fastapi import Depends, FastAPI
from peer_schema import loaders, schema
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import GraphQLRouter

make_session = async_sessionmaker(engine(), expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with make_session() as session:
        yield session


async def get_context(session: AsyncSession = Depends(get_session)) -> dict[str, Any]:
    return loaders(session)


app = FastAPI()
app.include_router(GraphQLRouter(schema, context_getter=get_context, graphql_ide=None), prefix="/graphql")
