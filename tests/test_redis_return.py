"""Websockets after a Redis outage, on the real Daphne with a private redis-server: the first
websocket opened after Redis returns is accepted and works (it used to fail with a 500)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time

import pytest

from tests.conftest import Proc, Stack, free_port, make_stack_user, stack_env

pytestmark = [pytest.mark.stack]


async def _open_and_ping(ws_url: str, cookie: str, redis_url: str, prefix: str) -> list[dict]:
    """Open the officer's websocket, ping it, and send it a notice through Redis as a worker would."""
    import websockets
    from channels_redis.core import RedisChannelLayer

    from alerts.services import GROUP

    async with websockets.connect(
        ws_url, additional_headers={"Cookie": cookie, "Origin": "http://127.0.0.1"}, open_timeout=10
    ) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        got = [json.loads(await asyncio.wait_for(ws.recv(), 10))]
        layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
        await layer.group_send(GROUP, {"type": "system.notice", "notice": {"message": "Redis is back"}})
        got.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        await layer.close_pools()
        return got


def test_first_websocket_after_redis_returns_is_accepted(private_redis, transactional_db):
    from django.db import connection

    from conftest import require

    require(connection.vendor == "postgresql", "DATABASE_URL (PostgreSQL) is not set")
    var_dir = tempfile.mkdtemp(prefix="alpr-wsredis-")
    port = free_port()
    env = stack_env(var_dir, f"wsredis-{port}", REDIS_URL=private_redis.url)
    web = Proc(
        "daphne", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"], env
    )
    stack = Stack(f"http://127.0.0.1:{port}", env, [web])
    try:
        assert web.wait_for_line("Listening on TCP address", 60), web.tail()
        make_stack_user("officer-ws", "officer", "officer-password-1")
        session = stack.login("officer-ws", "officer-password-1")
        cookie = f"sessionid={session.cookies['sessionid']}"
        expected = [{"type": "pong"}, {"type": "system.notice", "notice": {"message": "Redis is back"}}]
        args = (stack.ws_url, cookie, private_redis.url, f"asgi-{env['ALPR_INSTANCE']}")
        assert asyncio.run(_open_and_ping(*args)) == expected

        private_redis.stop()
        time.sleep(1)
        private_redis.start()
        try:
            first = asyncio.run(_open_and_ping(*args))
        except Exception as exc:
            first = repr(exc)
        assert first == expected, f"first websocket after Redis returned: {first}\n{web.tail(80)}"
        assert asyncio.run(_open_and_ping(*args)) == expected
    finally:
        web.stop()
        shutil.rmtree(var_dir, ignore_errors=True)
