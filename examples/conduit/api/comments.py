"""``/articles/{slug}/comments``: read, add and delete comments."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from conduit import services
from conduit.accounts import Me, Viewer
from conduit.api.schemas import MultipleCommentsResponse, NewCommentRequest, SingleCommentResponse
from plait.exceptions import ErrorDetail, RequestValidationError
from plait.routing import Router

router = Router(prefix="/articles/{slug}/comments", name="api_comments", tags=["Comments"])


@router.get("", operation_id="GetArticleComments", summary="Get comments for an article")
async def list_comments(slug: str, viewer: Viewer, db: AsyncSession) -> MultipleCommentsResponse:
    """The article's comments, the most recent first."""
    article = await services.article_by_slug(db, slug)
    return MultipleCommentsResponse(await services.comment_views(db, article, viewer))


@router.post("", operation_id="CreateArticleComment", summary="Create a comment for an article")
async def add_comment(slug: str, data: NewCommentRequest, me: Me, db: AsyncSession) -> SingleCommentResponse:
    """Comment on an article."""
    if not data.comment.body.strip():
        raise RequestValidationError([ErrorDetail(("body", "comment", "body"), "can't be blank", "blank")])
    return SingleCommentResponse(await services.add_comment(db, me, slug, data.comment.body))


@router.delete("/{id}", status_code=204, operation_id="DeleteArticleComment", summary="Delete a comment for an article")
async def delete_comment(slug: str, id: int, me: Me, db: AsyncSession) -> None:
    """Delete a comment (only its author may)."""
    await services.delete_comment(db, me, slug, id)
