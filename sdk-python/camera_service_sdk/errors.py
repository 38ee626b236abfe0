"""The SDK's exceptions.

An error the server answers is an `RpcError` carrying its JSON-RPC `code`, `message` and
`data`; each error kind has a subclass (`CameraNotFound` for -1000 and so on, generated
from the server's table in `_generated.py`). The connection's own failures are
`CameraServiceError`s too, so one `except CameraServiceError` catches everything the SDK
raises.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional


class CameraServiceError(Exception):
    """Anything the SDK raises."""


class RpcError(CameraServiceError):
    """An error answer of the server: `code`, `message` and `data` as JSON-RPC gives them."""

    #: The error kind (e.g. "camera_not_found"); "unknown" for a code this SDK does not know.
    kind: str = "unknown"
    #: The code of the kind (the instance's `code` is the one the server sent).
    default_code: int = 0

    def __init__(
        self, message: str, *, code: Optional[int] = None, data: Optional[Mapping[str, Any]] = None,
        method: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code: int = self.default_code if code is None else code
        self.data: Optional[Mapping[str, Any]] = data
        #: The method whose call failed, when known.
        self.method = method

    def __str__(self) -> str:
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.message} ({self.code})"


class ConnectionLost(CameraServiceError):
    """The connection closed before the call was answered: it may or may not have run."""


class NotConnected(CameraServiceError):
    """The client is not connected: closed, reconnecting (with `on_disconnect="fail"`), or
    the reconnection did not come back within `reconnect_wait`."""


class CallTimeout(CameraServiceError, TimeoutError):
    """The server did not answer within the call's timeout."""


class DownloadError(CameraServiceError):
    """A download failed: an HTTP error status, a size that does not match, or the
    connection dropping more often than `max_retries` allows. `status` is the HTTP status
    when there was one."""

    def __init__(self, message: str, *, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status
