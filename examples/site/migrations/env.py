"""Alembic environment of this Plait project: `plait db ...` runs it, and so does `alembic` itself.

The URL and the models' metadata come from the app's Database (under `alembic`, from PLAIT_APP).
Options given to env.run() go to Alembic's context.configure(), e.g. include_object=...
"""

from alembic import context

from plait.db.migrations import MigrationEnvironment

env = MigrationEnvironment(context)
env.run(
    render_as_batch=env.is_sqlite,  # SQLite cannot ALTER most things: Alembic copies the table instead
    compare_type=True,  # a changed column type is a change, too
)
