"""The auth tables: users, groups, permissions and their links, API keys, login throttling.

Shipped with Plait and applied by ``plait db migrate`` in every project that installs ``Auth``
(branch ``plait_auth``; the project's own revisions depend on it).

Revision ID: plait_auth_0001
Revises:
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import plait.db.models

revision: str = "plait_auth_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("plait_auth",)
depends_on: str | Sequence[str] | None = None

UTC = plait.db.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "auth_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password", sa.String(length=255), server_default="", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("is_staff", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("date_joined", UTC(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_login", UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user")),
        sa.UniqueConstraint("email", name=op.f("uq_auth_user_email")),
        sa.UniqueConstraint("username", name=op.f("uq_auth_user_username")),
    )
    op.create_table(
        "auth_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_group")),
        sa.UniqueConstraint("name", name=op.f("uq_auth_group_name")),
    )
    op.create_table(
        "auth_permission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("codename", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_permission")),
        sa.UniqueConstraint("codename", name=op.f("uq_auth_permission_codename")),
    )
    _link("auth_user_groups", ("user_id", "auth_user"), ("group_id", "auth_group"))
    _link("auth_user_permissions", ("user_id", "auth_user"), ("permission_id", "auth_permission"))
    _link("auth_group_permissions", ("group_id", "auth_group"), ("permission_id", "auth_permission"))
    op.create_table(
        "auth_apikey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_used_at", UTC(timezone=True), nullable=True),
        sa.Column("expires_at", UTC(timezone=True), nullable=True),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_auth_apikey_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_apikey")),
    )
    op.create_index(op.f("ix_auth_apikey_prefix"), "auth_apikey", ["prefix"], unique=True)
    op.create_index(op.f("ix_auth_apikey_user_id"), "auth_apikey", ["user_id"], unique=False)
    op.create_table(
        "auth_throttle",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_throttle")),
    )


def _link(table: str, left: tuple[str, str], right: tuple[str, str]) -> None:
    """A two-column link table, each column a foreign key that cascades deletes."""
    columns = [sa.Column(name, sa.Integer(), nullable=False) for name, _ in (left, right)]
    keys = [
        sa.ForeignKeyConstraint([name], [f"{target}.id"], name=op.f(f"fk_{table}_{name}_{target}"), ondelete="CASCADE")
        for name, target in (left, right)
    ]
    op.create_table(table, *columns, *keys, sa.PrimaryKeyConstraint(left[0], right[0], name=op.f(f"pk_{table}")))


def downgrade() -> None:
    op.drop_table("auth_throttle")
    op.drop_index(op.f("ix_auth_apikey_user_id"), table_name="auth_apikey")
    op.drop_index(op.f("ix_auth_apikey_prefix"), table_name="auth_apikey")
    op.drop_table("auth_apikey")
    for table in ("auth_group_permissions", "auth_user_permissions", "auth_user_groups"):
        op.drop_table(table)
    op.drop_table("auth_permission")
    op.drop_table("auth_group")
    op.drop_table("auth_user")
