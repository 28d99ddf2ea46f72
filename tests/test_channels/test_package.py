"""The channels battery: redis is needed only by RedisBroker, which says how to install it; pinned names."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import plait.channels


def test_without_redis_only_the_redis_broker_needs_installing() -> None:
    code = """
        import sys
        sys.modules["redis"] = None
        from plait.channels import Channels, RedisBroker
        Channels()
        RedisBroker("redis://127.0.0.1:6379/0")
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "RedisBroker needs redis-py" in result.stderr
    assert "pip install 'plait[redis]'" in result.stderr


def test_the_public_names() -> None:
    assert sorted(plait.channels.__all__) == [
        "Broker",
        "Channels",
        "ChannelsError",
        "ChannelsSettings",
        "ChannelsUnavailable",
        "MemoryBroker",
        "Overflow",
        "RedisBroker",
        "SlowSubscriber",
        "Subscription",
    ]
