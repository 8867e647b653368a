"""Real PostgreSQL and Redis for the tests.

Each server comes from, in order: the URL in an environment variable, the default server on
127.0.0.1, or a throwaway server started from local binaries and stopped at the end. Set
CPB_TEST_FORCE_THROWAWAY=1 to skip the default servers (it is how the fallback itself is tested).
Every function raises `Unavailable` when no server of its kind can be had; the fixtures turn that
into a skip, or a failure in CI.

This module names what the fixtures, the fault tests and the benchmarks use; PostgreSQL is in
postgres_service.py, Redis in redis_service.py, and what they share in service_common.py.
"""

from tests.support.postgres_service import (
    libpq_url,
    postgres_database,
    postgres_server,
    throwaway_postgres,
)
from tests.support.redis_service import (
    REDIS_CLAIM_PREFIX,
    RedisServer,
    redis_database,
    throwaway_redis,
)
from tests.support.service_common import Unavailable, force_throwaway, free_port

__all__ = [
    "REDIS_CLAIM_PREFIX",
    "RedisServer",
    "Unavailable",
    "force_throwaway",
    "free_port",
    "libpq_url",
    "postgres_database",
    "postgres_server",
    "redis_database",
    "throwaway_postgres",
    "throwaway_redis",
]
