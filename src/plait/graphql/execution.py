"""Running one operation: the context, its transaction, and the response payload."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from plait.graphql.context import GraphQLContext
from plait.graphql.errors import INTERNAL, format_errors

if TYPE_CHECKING:
    from strawberry import Schema

    from plait.di.container import Container
    from plait.requests import HTTPConnection

logger = logging.getLogger("plait.graphql")


class _Rollback(Exception):
    """Passed to the operation's exit stack so that its database session rolls back instead of committing."""


@contextlib.asynccontextmanager
async def operation_context(connection: HTTPConnection, container: Container) -> Any:
    """A :class:`GraphQLContext` whose dependencies are cleaned up (sessions committed) when the block ends.

    Call ``context.failed = True`` inside the block to roll the operation's session back instead.
    """
    stack = contextlib.AsyncExitStack()
    context = GraphQLContext(connection, container, stack)
    try:
        yield context
    except BaseException:
        await _unwind(stack, rollback=True)
        raise
    await _unwind(stack, rollback=context.failed)


async def _unwind(stack: contextlib.AsyncExitStack, *, rollback: bool) -> None:
    if not rollback:
        await stack.aclose()  # a generator provider commits here (plait.db's session)
        return
    error = _Rollback()
    with contextlib.suppress(_Rollback):
        await stack.__aexit__(_Rollback, error, None)


class Executor:
    """Executes operations of one schema for one app (what the HTTP and WebSocket transports share)."""

    def __init__(self, schema: Schema, container: Container, *, debug: bool) -> None:
        self.schema = schema
        self.container = container
        self.debug = debug

    async def execute(
        self,
        connection: HTTPConnection,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        allowed: Iterable[OperationType],
    ) -> dict[str, Any]:
        """The response payload (``data``, ``errors``, ``extensions``) of one query or mutation.

        The operation is one transaction: it commits when it ran without an error and rolls back
        otherwise, before the payload is returned (so before the client hears of the result).
        """
        try:
            async with operation_context(connection, self.container) as context:
                result = await self.schema.execute(
                    query,
                    variable_values=dict(variables) if variables is not None else None,
                    context_value=context,
                    operation_name=operation_name,
                    allowed_operation_types=allowed,
                )
                context.failed = bool(result.errors)
        except GraphQLError as exc:  # pragma: no cover - strawberry reports these in the result
            return {"data": None, "errors": format_errors([exc], debug=self.debug)}
        except (InvalidOperationTypeError, MissingQueryError, CannotGetOperationTypeError):
            raise  # the transport answers these (a mutation over GET is a 405)
        except Exception as exc:
            # The commit failed (a constraint checked only at commit, the database went away).
            logger.error("Finishing a GraphQL operation failed", exc_info=exc)
            error = GraphQLError("The changes could not be saved.", extensions={"code": INTERNAL})
            return {"data": None, "errors": [error.formatted]}
        return payload(result.data, result.errors, result.extensions, debug=self.debug)


def payload(
    data: Any, errors: list[GraphQLError] | None, extensions: Mapping[str, Any] | None, *, debug: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"data": data}
    if errors:
        body["errors"] = format_errors(errors, debug=debug)
    if extensions:
        body["extensions"] = dict(extensions)
    return body
