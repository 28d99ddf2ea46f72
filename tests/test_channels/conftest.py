"""Every test here waits on something (a task, a message, a process): a watchdog bounds it."""

from tests.test_scaling.watchdog import *  # noqa: F403 - a hang fails one test, never the whole run
