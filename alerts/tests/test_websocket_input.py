"""The websocket endpoint under odd input: unknown paths and messages that are not JSON objects."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings


def _ws(path: str, client=None) -> WebsocketCommunicator:
    from config.asgi import application

    headers = [(b"origin", b"http://localhost")]
    if client is not None:
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/nope/", "/", "/ws/alerts/extra", "/admin/"])
def test_unknown_websocket_paths_are_refused_without_an_error(client, officer, path):
    client.force_login(officer)

    async def scenario():
        comm = _ws(path, client)
        connected, code = await comm.connect()
        assert (connected, code) == (False, 4404)

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_messages_that_are_not_json_objects_get_an_error_frame_and_the_socket_stays_usable(client, officer):
    client.force_login(officer)

    async def scenario():
        comm = _ws("/ws/alerts/", client)
        connected, _ = await comm.connect()
        assert connected
        for text in ["[1, 2]", '"ping"', "42", "null", "not json {", "x" * 5000]:
            await comm.send_to(text_data=text)
            reply = await comm.receive_json_from(timeout=5)
            assert reply["type"] == "error" and reply["error"], (text, reply)
        await comm.send_to(bytes_data=b"\x00\x01")
        assert (await comm.receive_json_from(timeout=5))["type"] == "error"
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from(timeout=5) == {"type": "pong"}
        await comm.disconnect()

    async_to_sync(scenario)()
