"""Fixtures shared by every test package: the real servers (see ``tests/services.py``)."""

from tests.services import fresh_postgres_database, redis_prefix, redis_url

__all__ = ["fresh_postgres_database", "redis_prefix", "redis_url"]
