"""``plait worker`` and ``plait scheduler``, offered by the ``plait`` CLI when ``Jobs`` is installed.

::

    PLAIT_APP=myproject.app:app PLAIT_JOBS_URL=redis://127.0.0.1:6379/0 plait worker --concurrency 20
    PLAIT_APP=myproject.app:app PLAIT_JOBS_URL=redis://127.0.0.1:6379/0 plait scheduler

Both run the app's lifespan (database engine, settings, the other extensions), so a job gets its
dependencies exactly as a handler does. Run as many workers as the load needs, on any machine;
run **one** scheduler (two would send each scheduled job twice). SIGTERM or Ctrl+C stops a worker
after the jobs it is running have finished.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio
import click
from taskiq import InMemoryBroker

from plait.jobs.job import JobArgumentError

if TYPE_CHECKING:
    from plait.app import Plait
    from plait.jobs.extension import Jobs


def _jobs(app: Any) -> Jobs:
    jobs: Jobs = app.extensions["jobs"]
    return jobs


@click.command()
@click.option(
    "--concurrency", type=click.IntRange(min=1), default=10, show_default=True, help="Jobs run at once in this process."
)
@click.pass_obj
def worker(app: Any, concurrency: int) -> None:
    """Run the app's jobs as they are enqueued, until stopped (SIGTERM or Ctrl+C)."""
    jobs = _jobs(app)
    if isinstance(jobs.broker, InMemoryBroker):
        raise click.ClickException(
            "Jobs run inside the app with the in-process broker, so there is nothing for a worker to do. "
            "Set PLAIT_JOBS_URL=redis://host:6379/0 (for the app and the worker) to send jobs to workers."
        )
    click.echo(f"Plait worker: {len(jobs.jobs)} job(s) on {getattr(jobs.broker, 'queue_name', jobs.broker)}")
    asyncio.run(_until_signalled(lambda stop: run_worker(app, jobs, concurrency, stop)))


@click.command()
@click.pass_obj
def scheduler(app: Any) -> None:
    """Send the jobs declared with schedule= (cron, UTC) or every= at their times, until stopped."""
    jobs = _jobs(app)
    scheduled = [job for job in jobs.jobs.values() if job.schedule or job.every]
    if not scheduled:
        raise click.ClickException("No job is declared with schedule= or every=, so there is nothing to schedule.")
    for job in scheduled:
        try:
            job.payload()  # the scheduler sends no arguments: fail now rather than at the first tick
        except JobArgumentError as exc:
            raise click.ClickException(
                f"{exc}. A scheduled job takes no arguments (or only ones with defaults)."
            ) from None
    click.echo(f"Plait scheduler: {', '.join(job.name for job in scheduled)}")
    asyncio.run(_until_signalled(lambda stop: run_scheduler(app, jobs, stop)))


async def _until_signalled(main: Any) -> None:
    """Run ``main(stop)``; SIGINT or SIGTERM sets ``stop``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await main(stop)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


async def run_worker(app: Plait[Any], jobs: Jobs, concurrency: int, stop: asyncio.Event) -> None:
    """Receive and run jobs until ``stop`` is set, then wait for the running ones."""
    from taskiq.acks import AcknowledgeType
    from taskiq.receiver import Receiver

    jobs.broker.is_worker_process = True
    async with app.running():
        receiver = Receiver(
            jobs.broker,
            max_async_tasks=concurrency,
            run_startup=False,  # the app's lifespan started the broker
            validate_params=False,  # Plait converted the arguments itself
            # Acknowledged once the job ran and its result was saved: a worker dying earlier leaves the
            # job in the stream for another worker (at-least-once).
            ack_type=AcknowledgeType.WHEN_SAVED,
        )
        await receiver.listen(stop)


async def run_scheduler(app: Plait[Any], jobs: Jobs, stop: asyncio.Event) -> None:
    """Send scheduled jobs until ``stop`` is set."""
    from taskiq import TaskiqScheduler
    from taskiq.cli.scheduler.run import SchedulerLoop
    from taskiq.schedule_sources import LabelScheduleSource

    async with app.running():
        source = LabelScheduleSource(jobs.broker)
        await source.startup()
        loop = SchedulerLoop(TaskiqScheduler(jobs.broker, [source]))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: loop.run(update_interval=timedelta(days=1)))
            await stop.wait()
            tasks.cancel_scope.cancel()
