from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

from accounts.roles import ADMIN, OFFICER, has_role

from .services import ADMIN_GROUP, GROUP, is_watched, user_group, watched

# Close codes the browser can tell apart from network failures.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
MAX_MESSAGE_CHARS = 4096


class AlertConsumer(AsyncJsonWebsocketConsumer):
    """Pushes new and updated alerts to logged-in officers and admins. Moves messages only."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(has_role)(user, OFFICER, ADMIN):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.cameras, self.hotlists = await database_sync_to_async(watched)(user)
        self.groups_joined = [GROUP, user_group(user.pk)]  # covert-list alerts come to the user's own group
        if await database_sync_to_async(has_role)(user, ADMIN):
            self.groups_joined.append(ADMIN_GROUP)  # camera health notices
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Messages from the browser are small JSON objects; anything else gets an error frame and the
        connection stays open (a malformed message is the sender's problem, not a server error)."""
        if text_data is None:
            await self.send_json({"type": "error", "error": "send JSON text messages, not binary ones"})
            return
        if len(text_data) > MAX_MESSAGE_CHARS:
            await self.send_json({"type": "error", "error": f"messages may be at most {MAX_MESSAGE_CHARS} characters"})
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_json({"type": "error", "error": "messages must be JSON objects"})
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "error": "messages must be JSON objects"})
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def alert_new(self, event):
        if is_watched(event["alert"], self.cameras, self.hotlists):
            await self.send_json({"type": "alert.new", "alert": event["alert"]})

    async def system_notice(self, event):
        await self.send_json({"type": "system.notice", "notice": event["notice"]})

    async def alert_updated(self, event):
        if is_watched(event["alert"], self.cameras, self.hotlists):
            await self.send_json({"type": "alert.updated", "alert": event["alert"]})


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any websocket path without a consumer: the handshake is refused (no error, no traceback)."""

    async def connect(self):
        await self.close(code=CLOSE_NOT_FOUND)
