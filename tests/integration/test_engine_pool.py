"""The PostgreSQL engine's pool holds a connection for every thread the API runs routes in:
FastAPI runs them in anyio's worker threads, and a smaller pool made a burst of requests wait
out the pool timeout and fail."""

from __future__ import annotations

import anyio
import anyio.to_thread
import pytest

from arrears.adapters.db.engine import create_engine

from loopback import POSTGRES_URL


async def _worker_threads() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


@pytest.mark.skipif(POSTGRES_URL is None, reason="ARREARS_TEST_POSTGRES_URL is not set")
def test_the_pool_holds_a_connection_for_every_api_worker_thread() -> None:
    assert POSTGRES_URL is not None
    engine = create_engine(POSTGRES_URL)
    try:
        capacity = engine.pool.size() + engine.pool._max_overflow  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    assert capacity >= anyio.run(_worker_threads)
