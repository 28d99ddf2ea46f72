"""Relations loaded through DataLoaders: one query per relation and level, not one per row (no N+1).

Within one operation, every ``article.author`` asked for is collected by a DataLoader and loaded
with one ``SELECT ... WHERE id IN (...)``; a collection (``article.tags``) with one query for the
parents' relation (SQLAlchemy's ``selectinload``). A relation already loaded on the object costs
nothing. The loaders live in ``info.context.loaders`` and die with the operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import RelationshipDirection, RelationshipProperty, selectinload
from strawberry.dataloader import DataLoader

from plait.graphql.context import GraphQLContext

BATCH = 500
"""Rows per ``IN (...)`` list: big enough for any page, small enough for every database's parameter limit."""


async def load_relation(context: GraphQLContext, prop: RelationshipProperty[Any], instance: Any) -> Any:
    """``instance.<prop>``, loaded with every other instance's asked for in the same operation."""
    state = sa.inspect(instance)
    if prop.key not in state.unloaded:
        return getattr(instance, prop.key)
    loader = context.loaders.get(prop)
    if loader is None:

        async def batch(instances: list[Any]) -> list[Any]:
            return await _load(context, prop, instances)

        loader = context.loaders[prop] = DataLoader(load_fn=batch, cache_key_fn=_identity, max_batch_size=BATCH)
    return await loader.load(instance)


def _identity(instance: Any) -> Any:
    return (type(instance), sa.inspect(instance).identity)


def _to_one_by_key(prop: RelationshipProperty[Any]) -> tuple[Any, Any] | None:
    """For a many-to-one over one column to the target's primary key: (local attribute, target key column)."""
    if prop.direction is not RelationshipDirection.MANYTOONE or len(prop.local_remote_pairs) != 1:
        return None
    local, remote = prop.local_remote_pairs[0]
    target = prop.mapper
    if list(target.primary_key) != [remote]:
        return None
    return prop.parent.get_property_by_column(local).key, target.get_property_by_column(remote).key


async def _load(context: GraphQLContext, prop: RelationshipProperty[Any], instances: Sequence[Any]) -> list[Any]:
    db = await context.session()
    by_key = _to_one_by_key(prop)
    if by_key is not None:
        local, remote = by_key
        wanted = [getattr(obj, local) for obj in instances]
        keys = {value for value in wanted if value is not None}
        target = prop.mapper.class_
        found: dict[Any, Any] = {}
        if keys:
            async with context.db_lock:
                rows = (await db.scalars(sa.select(target).where(getattr(target, remote).in_(keys)))).all()
            found = {getattr(row, remote): row for row in rows}
        return [found.get(value) for value in wanted]
    model = prop.parent.class_
    (key,) = prop.parent.primary_key  # checked when the type was made
    name = prop.parent.get_property_by_column(key).key
    idents = [getattr(obj, name) for obj in instances]
    # The parents are in the session already: selecting them again with selectinload fills in the
    # relation on those very objects (one query for the parents' keys, one for the related rows).
    statement = sa.select(model).where(getattr(model, name).in_(idents)).options(selectinload(getattr(model, prop.key)))
    async with context.db_lock:
        await db.execute(statement)
    return [getattr(obj, prop.key) for obj in instances]
