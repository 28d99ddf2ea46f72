"""The admin's change history table, ``plait_admin_log``.

Shipped with Plait and applied by ``plait db migrate`` in every project that installs ``Admin``
(branch ``plait_admin``, after ``plait_auth``: its rows point at ``auth_user``).

Revision ID: plait_admin_0001
Revises:
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import plait.db.models

revision: str = "plait_admin_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("plait_admin",)
depends_on: str | Sequence[str] | None = "plait_auth_0001"


def upgrade() -> None:
    op.create_table(
        "plait_admin_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "action_time", plait.db.models.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("object_repr", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_plait_admin_log_user_id_auth_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plait_admin_log")),
    )
    op.create_index(op.f("ix_plait_admin_log_action_time"), "plait_admin_log", ["action_time"], unique=False)
    op.create_index("ix_plait_admin_log_object", "plait_admin_log", ["model", "object_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_plait_admin_log_object", table_name="plait_admin_log")
    op.drop_index(op.f("ix_plait_admin_log_action_time"), table_name="plait_admin_log")
    op.drop_table("plait_admin_log")
