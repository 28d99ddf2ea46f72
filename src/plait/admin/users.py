"""Admin options for the auth battery's users and groups: ``admin.register(User, UserAdmin)``.

Passwords never appear in a form: the hash column is left out, and the optional "New password" field
checks the auth battery's password rules and stores the argon2 hash (an account added without one
cannot log in with a password). Whoever may change users may make anyone staff or superuser: give
``auth_user.change`` to administrators only.
"""

from __future__ import annotations

from typing import Annotated, Any

from plait.admin.options import ModelAdmin
from plait.forms import Field

__all__ = ["GroupAdmin", "UserAdmin"]

NEW_PASSWORD = Field(
    widget="password",
    label="New password",
    help="Leave empty to keep the current password.",
    strip=False,
    attrs={"autocomplete": "new-password"},
)


class UserAdmin(ModelAdmin):
    """Users: searchable by name and email, filtered by status, with groups and permissions as multi-selects."""

    list_display = ("username", "email", "is_active", "is_staff", "is_superuser", "last_login")
    search_fields = ("username", "email")
    list_filter = ("is_active", "is_staff", "is_superuser")
    ordering = ("username",)
    exclude = ("password",)
    readonly_fields = ("last_login", "date_joined")
    extra_fields = {"new_password": Annotated[str, NEW_PASSWORD]}
    fieldsets = [
        (None, ["username", "email", "new_password"]),
        ("Permissions", ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]),
        ("Dates", ["last_login", "date_joined"]),
    ]

    async def save_model(self, request: Any, db: Any, obj: Any, form: Any, creating: bool) -> None:
        from plait.auth.identity import get_auth
        from plait.auth.validators import PasswordValidationError

        auth = get_auth(request.app)
        obj.email = auth.normalize_email(obj.email)
        password = form.data.new_password
        if not password:
            return
        try:
            auth.hasher.check_length(password)
            auth.check_password_rules(password, {"username": obj.username, "email": obj.email})
        except (PasswordValidationError, ValueError) as exc:
            form.add_error("new_password", str(exc))
            return
        obj.password = await auth.hash_password(password)


class GroupAdmin(ModelAdmin):
    """Groups, with their permissions as a multi-select."""

    list_display = ("name",)
    search_fields = ("name",)
    ordering = ("name",)
