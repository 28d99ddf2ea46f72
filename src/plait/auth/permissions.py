"""Permission checks as dependencies: ``requires("articles.change")``, ``requires_group("editors")``, scopes.

A user has the permissions given to them directly plus those of their groups; a superuser has all
of them; an inactive user is never authenticated, so has none. Each check is a dependency (a
``Depends``), usable in a route's, a router's or ``crud_router``'s ``dependencies=[...]``, or as a
parameter that receives the user::

    from plait.auth import CurrentUser, requires

    @app.delete("/articles/{id:int}", dependencies=[requires("articles.delete")])
    async def delete_article(id: int, db: AsyncSession) -> None: ...

    @app.put("/articles/{id:int}")
    async def edit(id: int, user: Annotated[User, requires("articles.change")]) -> ...: ...

No credentials is a 401 (log in); a user without the permission a 403 (logging in again would not
help). The user's permissions are read with one query and cached for the request.

Object-level rules (an author may edit their own article) go through :func:`check_object`: the
object decides when it implements :class:`ObjectPermission`, else a rule registered with
:func:`object_rule` for its class does; with neither, only superusers may act (deny by default).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Protocol, TypeVar, runtime_checkable

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from plait.auth.apikeys import has_scopes
from plait.auth.identity import CREDENTIALS_SCOPE_KEY, current_user
from plait.auth.models import Group, Permission, User, group_permissions, user_groups, user_permissions
from plait.auth.openapi import FORBIDDEN
from plait.di.markers import Depends
from plait.exceptions import ConfigurationError, HTTPException
from plait.requests import Request

__all__ = [
    "ObjectPermission",
    "check_object",
    "get_permissions",
    "has_permissions",
    "object_rule",
    "requires",
    "requires_group",
    "requires_scope",
]

PERMISSIONS_SCOPE_KEY = "plait.auth.permissions"
GROUPS_SCOPE_KEY = "plait.auth.groups"
T = TypeVar("T")
Rule = Callable[[Any, Any, str], "bool | Awaitable[bool]"]
_rules: dict[type, Rule] = {}


@runtime_checkable
class ObjectPermission(Protocol):
    """An object that decides who may act on it: ``has_object_permission(user, action) -> bool`` (or awaitable)."""

    def has_object_permission(self, user: Any, action: str) -> bool | Awaitable[bool]: ...


async def get_permissions(db: AsyncSession, user: Any, cache: dict[str, Any] | None = None) -> frozenset[str]:
    """The codenames ``user`` has, directly or through a group (one query; kept in ``cache`` when given)."""
    if cache is not None and PERMISSIONS_SCOPE_KEY in cache:
        cached: frozenset[str] = cache[PERMISSIONS_SCOPE_KEY]
        return cached
    if not isinstance(user, User):
        # A replacement user model (its own table): the link tables hold auth_user ids, and reading
        # them with this user's id would hand it the permissions of another account that has it.
        return frozenset()
    direct = (
        select(Permission.codename)
        .join(user_permissions, user_permissions.c.permission_id == Permission.id)
        .where(user_permissions.c.user_id == user.id)
    )
    via_groups = (
        select(Permission.codename)
        .join(group_permissions, group_permissions.c.permission_id == Permission.id)
        .join(user_groups, user_groups.c.group_id == group_permissions.c.group_id)
        .where(user_groups.c.user_id == user.id)
    )
    found = frozenset((await db.execute(union(direct, via_groups))).scalars())
    if cache is not None:
        cache[PERMISSIONS_SCOPE_KEY] = found
    return found


async def _groups(db: AsyncSession, user: Any, cache: dict[str, Any]) -> frozenset[str]:
    if not isinstance(user, User):  # a replacement user model: no groups (see get_permissions)
        return frozenset()
    if GROUPS_SCOPE_KEY not in cache:
        query = select(Group.name).join(user_groups, user_groups.c.group_id == Group.id)
        cache[GROUPS_SCOPE_KEY] = frozenset((await db.execute(query.where(user_groups.c.user_id == user.id))).scalars())
    found: frozenset[str] = cache[GROUPS_SCOPE_KEY]
    return found


async def has_permissions(db: AsyncSession, user: Any, *codenames: str, cache: dict[str, Any] | None = None) -> bool:
    """Whether ``user`` (active) has every one of ``codenames``; superusers have all."""
    if user is None or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return set(codenames) <= await get_permissions(db, user, cache)


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(403, detail)


def _check_names(what: str, names: Sequence[str]) -> tuple[str, ...]:
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ConfigurationError(f"{what}() takes one or more non-empty names, e.g. {what}('articles.change').")
    return tuple(names)


class _Requires:
    """The dependency behind :func:`requires`: the user, once they have every permission named."""

    __plait_openapi__ = FORBIDDEN

    def __init__(self, codenames: tuple[str, ...]) -> None:
        self.codenames = codenames

    async def __call__(self, request: Request, user: Annotated[User, Depends(current_user)], db: AsyncSession) -> User:
        if not await has_permissions(db, user, *self.codenames, cache=request.scope.setdefault("plait.auth", {})):
            raise _forbidden(f"You need the permission(s) {', '.join(self.codenames)} to do this.")
        return user

    def __repr__(self) -> str:
        return f"requires{self.codenames!r}"


class _RequiresGroup:
    """The dependency behind :func:`requires_group`: the user, once they are in one of the groups."""

    __plait_openapi__ = FORBIDDEN

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    async def __call__(self, request: Request, user: Annotated[User, Depends(current_user)], db: AsyncSession) -> User:
        if user.is_superuser:
            return user
        groups = await _groups(db, user, request.scope.setdefault("plait.auth", {}))
        if groups.isdisjoint(self.names):
            raise _forbidden(f"You need to be in the group(s) {' or '.join(self.names)} to do this.")
        return user


class _RequiresScope:
    """The dependency behind :func:`requires_scope`: API keys must carry the scopes; other logins pass."""

    __plait_openapi__ = FORBIDDEN

    def __init__(self, scopes: tuple[str, ...]) -> None:
        self.scopes = scopes

    async def __call__(self, request: Request, user: Annotated[User, Depends(current_user)]) -> User:
        credentials = request.scope.get(CREDENTIALS_SCOPE_KEY)
        key = getattr(credentials, "api_key", None)
        if key is not None and not has_scopes(key, self.scopes):
            raise _forbidden(f"This API key lacks the scope(s) {', '.join(self.scopes)}; create one that has them.")
        return user


def requires(*codenames: str) -> Depends:
    """A dependency giving the current user if they have every permission named (401 / 403 otherwise).

    >>> requires("articles.change")
    Depends(dependency=requires('articles.change',), use_cache=True, scope='request')
    """
    return Depends(_Requires(_check_names("requires", codenames)))


def requires_group(*names: str) -> Depends:
    """A dependency giving the current user if they belong to **one** of the groups (superusers pass)."""
    return Depends(_RequiresGroup(_check_names("requires_group", names)))


def requires_scope(*scopes: str) -> Depends:
    """A dependency that a request made with an API key must hold every scope for.

    Tokens and sessions act with the user's full rights, so they pass; pair this with
    :func:`requires` when the user's permissions matter too.
    """
    return Depends(_RequiresScope(_check_names("requires_scope", scopes)))


def object_rule(model: type[T]) -> Callable[[Callable[[Any, T, str], Any]], Callable[[Any, T, str], Any]]:
    """Register the rule deciding who may act on instances of ``model`` (and its subclasses).

    >>> class Note:
    ...     owner_id = 1
    >>> @object_rule(Note)
    ... def note_rule(user, note, action):
    ...     return action == "view" or note.owner_id == user.id
    """

    def register(rule: Callable[[Any, T, str], Any]) -> Callable[[Any, T, str], Any]:
        _rules[model] = rule
        return rule

    return register


async def check_object(user: Any, obj: Any, action: str) -> None:
    """Raise 403 unless ``user`` may do ``action`` (``"change"``, ``"delete"``, ...) on ``obj``.

    Superusers may do anything; otherwise ``obj.has_object_permission(user, action)`` decides when
    the object has it, else the :func:`object_rule` of the closest class; with neither, the answer
    is no (deny by default: forgetting a rule must not open the object to everyone).
    """
    if user is None or not user.is_active:
        # A 401 always says how to authenticate (RFC 9110 section 15.5.2).
        raise HTTPException(401, "Authentication required.", {"WWW-Authenticate": "Bearer"})
    if user.is_superuser:
        return
    if isinstance(obj, ObjectPermission):
        allowed: Any = obj.has_object_permission(user, action)
    else:
        rule = next((_rules[cls] for cls in type(obj).__mro__ if cls in _rules), None)
        allowed = rule(user, obj, action) if rule is not None else False
    if inspect.isawaitable(allowed):
        allowed = await allowed
    if not allowed:
        raise _forbidden(f"You may not {action} this {type(obj).__name__}.")
