"""A cap on the size of every request body, checked as it arrives, before anything reads it into memory.

A request that says it is bigger than the cap (Content-Length) is refused at once; one that does not say (chunked)
is counted as it streams and refused as soon as it passes the cap. Either way: 413, nothing read or written.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]


def too_large_message(max_bytes: int) -> str:
    return (
        f"The upload is larger than {max_bytes // (1024 * 1024)} MB, the most this service accepts "
        "(MAX_UPLOAD_MB). Split the extract into smaller files, or ask your administrator to raise the limit."
    )


class BodySizeLimit:
    """Pure ASGI middleware: 413 for a body over `max_bytes`, as JSON under /api and as a short page elsewhere."""

    def __init__(self, app: Any, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        exceeded = refused = False

        async def counting_receive() -> Any:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Stop the app reading: to it the client has gone. Whatever it answers, the 413 goes instead.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal refused
            if not exceeded:
                await send(message)
            elif not refused:
                refused = True
                await self._refuse(scope, send)

        await self.app(scope, counting_receive, guarded_send)
        if exceeded and not refused:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Any) -> None:
        message = too_large_message(self.max_bytes)
        if scope.get("path", "").startswith("/api/"):
            body, kind = json.dumps({"detail": message}).encode(), b"application/json"
        else:
            body = (
                "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Error: upload too large</title>"
                "</head><body><main><h1>The file is too large</h1><p>" + message + "</p>"
                "<p><a href='javascript:history.back()'>Go back</a></p></main></body></html>"
            ).encode()
            kind = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
