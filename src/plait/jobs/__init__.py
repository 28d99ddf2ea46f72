"""Background jobs on taskiq: typed, with Plait's dependencies, retried, scheduled, durable on Redis.

::

    from sqlalchemy.ext.asyncio import AsyncSession

    from plait import Plait
    from plait.db import Database
    from plait.jobs import Jobs

    jobs = Jobs()                     # PLAIT_JOBS_URL=redis://... sends jobs to `plait worker`

    @jobs.job(retries=3, timeout=30)
    async def welcome(user_id: int, db: AsyncSession) -> None:
        ...                           # db commits when the job succeeds

    app = Plait(extensions=[Database(), jobs])

    @app.post("/users")
    async def register(data: UserIn, db: AsyncSession) -> User:
        user = User(**data); db.add(user); await db.flush()
        await welcome.enqueue_after_commit(user.id)   # sent only once the user is committed
        return user

``enqueue`` checks the arguments against the job's parameters (``JobArgumentError`` there, not in
the worker). Delivery is **at-least-once**: a worker that dies mid-job leaves it unacknowledged and
another worker runs it again, so write jobs that can run twice. Record that the work is done in the
same transaction as the work, and check first::

    @jobs.job(retries=5)
    async def charge(order_id: int, db: AsyncSession) -> None:
        order = await db.get(Order, order_id, with_for_update=True)   # one delivery at a time
        if order.charged_at is not None:
            return                                                  # an earlier delivery did it
        await payments.charge(order.total, idempotency_key=f"order-{order_id}")
        order.charged_at = datetime.now(UTC)                        # committed with the job

Run ``plait worker`` (as many as you like) and one ``plait scheduler`` for jobs declared with
``schedule=`` or ``every=``. Install with ``pip install 'plait[jobs]'``.
"""

try:
    import taskiq  # noqa: F401 - checked here so the message can say what to install
    import taskiq_redis  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra installed
    raise ImportError(
        f"plait.jobs needs taskiq and taskiq-redis ({exc}); install them with: pip install 'plait[jobs]'"
    ) from exc

from plait.jobs.brokers import StreamBroker
from plait.jobs.extension import Jobs, JobsSettings
from plait.jobs.job import Job, JobArgumentError, JobFailed, JobHandle, JobsError, JobsUnavailable, JobTimeout

__all__ = [
    "Job",
    "JobArgumentError",
    "JobFailed",
    "JobHandle",
    "JobTimeout",
    "Jobs",
    "JobsError",
    "JobsSettings",
    "JobsUnavailable",
    "StreamBroker",
]
