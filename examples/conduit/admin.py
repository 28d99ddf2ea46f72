"""Every Conduit model in Plait's admin (``/admin``): staff sign in there with the same accounts."""

from __future__ import annotations

from conduit.models import Article, ArticleTag, Comment, Favorite, Follow, Member, Tag
from plait.admin import Admin, InlineAdmin, ModelAdmin

__all__ = ["make_admin"]


class TagInline(InlineAdmin):
    model = ArticleTag
    extra = 0


class CommentInline(InlineAdmin):
    model = Comment
    extra = 0


class ArticleAdmin(ModelAdmin):
    list_display = ("title", "author_id", "slug", "created_at")
    search_fields = ("title", "description", "body", "slug")
    list_filter = ("author_id",)
    ordering = ("-created_at",)
    prepopulated_fields = {"slug": ("title",)}
    inlines = (TagInline, CommentInline)


class MemberAdmin(ModelAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "date_joined")
    search_fields = ("username", "email", "bio")
    list_filter = ("is_staff", "is_active")
    # The password column holds an argon2 hash: never shown or typed here (plait changepassword sets it).
    exclude = ("password",)


class CommentAdmin(ModelAdmin):
    list_display = ("id", "article_id", "author_id", "created_at")
    search_fields = ("body",)
    ordering = ("-created_at",)


class TagAdmin(ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


class FollowAdmin(ModelAdmin):
    list_display = ("follower_id", "followed_id", "created_at")


class FavoriteAdmin(ModelAdmin):
    list_display = ("member_id", "article_id", "created_at")


class ArticleTagAdmin(ModelAdmin):
    list_display = ("article_id", "tag_id", "position")


def make_admin() -> Admin:
    """A new admin with every Conduit model (one per app: an admin belongs to the app it is installed in)."""
    admin = Admin(title="Conduit administration")
    admin.register(Article, ArticleAdmin)
    admin.register(Member, MemberAdmin)
    admin.register(Comment, CommentAdmin)
    admin.register(Tag, TagAdmin)
    admin.register(Follow, FollowAdmin)
    admin.register(Favorite, FavoriteAdmin)
    admin.register(ArticleTag, ArticleTagAdmin)
    return admin
