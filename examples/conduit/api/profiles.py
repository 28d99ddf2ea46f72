"""``/profiles/{username}``: a member's profile, follow and unfollow."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from conduit import services
from conduit.accounts import Me, Viewer
from conduit.api.schemas import ProfileResponse
from plait.routing import Router

router = Router(prefix="/profiles", name="api_profiles", tags=["Profile"])


@router.get("/{username}", operation_id="GetProfileByUsername", summary="Get a profile")
async def get_profile(username: str, viewer: Viewer, db: AsyncSession) -> ProfileResponse:
    """A member's profile; ``following`` says whether the viewer follows them (false when anonymous)."""
    member = await services.member_named(db, username)
    return ProfileResponse(await services.profile(db, member, viewer))


@router.post("/{username}/follow", operation_id="FollowUserByUsername", summary="Follow a user")
async def follow(username: str, me: Me, db: AsyncSession) -> ProfileResponse:
    """Follow a member (following twice changes nothing)."""
    return ProfileResponse(await services.follow(db, me, username))


@router.delete("/{username}/follow", operation_id="UnfollowUserByUsername", summary="Unfollow a user")
async def unfollow(username: str, me: Me, db: AsyncSession) -> ProfileResponse:
    """Stop following a member (not following is fine too)."""
    return ProfileResponse(await services.unfollow(db, me, username))
