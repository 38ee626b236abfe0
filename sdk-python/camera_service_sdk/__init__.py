"""Python SDK of the MediaMTX Camera Service: an asyncio client of its JSON-RPC API.

    async with Client("ws://127.0.0.1:8002/ws", token=jwt) as client:
        print(await client.get_camera_list())

See docs/clients/python.md.
"""

from ._generated import *  # noqa: F401,F403 (the generated types, errors and METHODS)
from ._generated import ERROR_CLASSES, METHOD_ROLES, METHODS, NOTIFICATIONS, GeneratedMethods
from .client import EVENTS, AuthExpired, Client, Notification, NotificationStream
from .download import DownloadResult
from .errors import (
    CallTimeout,
    CameraServiceError,
    ConnectionLost,
    DownloadError,
    NotConnected,
    RpcError,
)

__version__ = "0.1.0"

__all__ = [
    "AuthExpired",
    "CallTimeout",
    "CameraServiceError",
    "Client",
    "ConnectionLost",
    "DownloadError",
    "DownloadResult",
    "ERROR_CLASSES",
    "EVENTS",
    "GeneratedMethods",
    "METHODS",
    "METHOD_ROLES",
    "NOTIFICATIONS",
    "NotConnected",
    "Notification",
    "NotificationStream",
    "RpcError",
]
