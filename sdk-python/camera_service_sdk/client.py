"""The asyncio client: one WebSocket to the service, JSON-RPC calls matched by id.

- A typed method for every API method comes from `GeneratedMethods` (generated from
  the server's contracts); `call(method, params)` reaches any method.
- When the connection drops (not after `close()`), it reconnects with exponential
  backoff and jitter and authenticates again with the same credential. Calls made
  meanwhile wait for it (at most `reconnect_wait` seconds) or, with
  `on_disconnect="fail"`, fail at once with `NotConnected`. A call in flight when the
  connection drops fails with `ConnectionLost`: it may or may not have run.
- Events, by `on(name, callback)`: "connected", "disconnected" (code, reason),
  "reconnecting" (attempt, delay), "auth_expired" (the error), "notification"
  (a Notification). Callbacks may be plain functions or coroutines.
- Notifications also as an async iterator: `async for n in client.notifications():`,
  bounded (the oldest are dropped when a reader falls behind, and counted).
- Everything is bounded: a timeout per call, per connection attempt and per download
  read; the size of a message; the queue of each notification reader.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import logging
import random
from ssl import SSLContext
from collections import deque
from dataclasses import dataclass, field
from typing import (
    Any, Awaitable, Callable, Deque, Dict, List, Literal, Mapping, Optional, Set, Tuple, Type, Union,
)

import websockets
from websockets.exceptions import ConnectionClosed, WebSocketException

from ._generated import ERROR_CLASSES, AuthenticateResult, AuthenticationFailed, GeneratedMethods
from .download import DownloadResult, FileKind, ProgressCallback, download, files_base_url
from .errors import CallTimeout, CameraServiceError, ConnectionLost, NotConnected, RpcError

log = logging.getLogger("camera_service_sdk")

#: websockets.connect: the asyncio client of websockets 10.4 (Debian 12) and of later versions.
_connect: Any = getattr(websockets, "connect")

EventName = Literal["connected", "disconnected", "reconnecting", "auth_expired", "notification"]
EVENTS: Tuple[str, ...] = ("connected", "disconnected", "reconnecting", "auth_expired", "notification")
State = Literal["idle", "connecting", "connected", "reconnecting", "closed"]


class AuthExpired(AuthenticationFailed):
    """The credential expired (the server's `data.reason` is "token_expired"): get a new
    token and call `authenticate(new_token)`, or make a new client with it."""


@dataclass(frozen=True)
class Notification:
    """A server notification: its method (e.g. "camera_status_update") and params."""

    method: str
    params: Dict[str, Any] = field(default_factory=dict)


class NotificationStream:
    """The notifications of one reader, in order; see `Client.notifications`.

    Iterating ends when the client closes or the stream is closed (`aclose()`, or leaving
    `async with`). It keeps going across reconnections. When the reader falls more than
    `max_queued` behind, the oldest are dropped and counted in `dropped`.
    """

    _END = object()

    def __init__(self, client: "Client", methods: Tuple[str, ...], max_queued: int) -> None:
        self._client = client
        self._methods = frozenset(methods)
        self._queue: Deque[object] = deque()
        self._max = max_queued
        self._wake = asyncio.Event()
        self._ended = False
        #: Notifications dropped because this reader fell behind.
        self.dropped = 0

    def _offer(self, item: object) -> None:
        if self._ended:
            return
        if isinstance(item, Notification) and self._methods and item.method not in self._methods:
            return
        if item is not self._END and len(self._queue) >= self._max:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(item)
        self._wake.set()

    def _end(self) -> None:
        self._offer(self._END)
        self._ended = True

    def __aiter__(self) -> "NotificationStream":
        return self

    async def __anext__(self) -> Notification:
        while not self._queue:
            if self._ended:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        item = self._queue.popleft()
        if item is self._END:
            self._client._streams.discard(self)
            raise StopAsyncIteration
        assert isinstance(item, Notification)
        return item

    async def next(self, timeout: Optional[float] = None) -> Notification:
        """The next notification, waiting at most `timeout` seconds (asyncio.TimeoutError)."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    async def aclose(self) -> None:
        self._client._streams.discard(self)
        self._queue.clear()
        self._end()

    async def __aenter__(self) -> "NotificationStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


Callback = Callable[..., Union[None, Awaitable[None]]]


class Client(GeneratedMethods):
    """A client of the camera service's JSON-RPC API.

    ```
    async with Client("ws://127.0.0.1:8002/ws", token=jwt) as client:
        cameras = await client.get_camera_list()
    ```

    Args:
        url: ws://host:8002/ws (wss:// with TLS).
        token: A JWT or an API key: every connection authenticates with it first.
        request_timeout: Seconds a call waits for its answer (CallTimeout).
        connect_timeout: Seconds a connection attempt (with its authentication) may take.
        reconnect: Reconnect when the connection drops (never after close()).
        on_disconnect: What a call made while reconnecting does: "wait" (at most
            `reconnect_wait` seconds, then NotConnected) or "fail" (NotConnected at once).
        reconnect_wait: See on_disconnect.
        backoff_initial, backoff_factor, backoff_max: The delay before reconnection attempt
            n is min(backoff_max, backoff_initial * backoff_factor ** (n - 1)) seconds ...
        backoff_jitter: ... less a random share of at most this fraction of it.
        max_reconnect_attempts: Give up after this many failed attempts (None: never).
        files_url: http(s)://host:port for downloads; default: the API URL's host and port.
        max_message_bytes: The largest message accepted from the server.
        notification_queue: How far a notifications() reader may fall behind.
        ssl: The TLS context for wss:// and https:// (e.g. one trusting your own CA);
            default: the system's.
    """

    def __init__(
        self,
        url: str,
        *,
        token: Optional[str] = None,
        request_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        reconnect: bool = True,
        on_disconnect: Literal["wait", "fail"] = "wait",
        reconnect_wait: float = 10.0,
        backoff_initial: float = 0.1,
        backoff_factor: float = 2.0,
        backoff_max: float = 1.0,
        backoff_jitter: float = 0.5,
        max_reconnect_attempts: Optional[int] = None,
        files_url: Optional[str] = None,
        max_message_bytes: int = 16 * 1024 * 1024,
        notification_queue: int = 1000,
        ssl: Optional[SSLContext] = None,
    ) -> None:
        if on_disconnect not in ("wait", "fail"):
            raise ValueError('on_disconnect is "wait" or "fail"')
        self.url = url
        self.files_url = files_url or files_base_url(url)
        self._token = token
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._reconnect = reconnect
        self._on_disconnect = on_disconnect
        self._reconnect_wait = reconnect_wait
        self._backoff = (backoff_initial, backoff_factor, backoff_max, backoff_jitter)
        self._max_attempts = max_reconnect_attempts
        self._max_message_bytes = max_message_bytes
        self._notification_queue = notification_queue
        self._ssl = ssl
        self._state: State = "idle"
        self._ws: Any = None
        self._pending: Dict[int, Tuple[str, "asyncio.Future[Any]"]] = {}
        self._ids = itertools.count(1)
        self._listeners: Dict[str, List[Callback]] = {name: [] for name in EVENTS}
        self._streams: Set[NotificationStream] = set()
        self._changed: Optional[asyncio.Event] = None
        self._supervisor: Optional["asyncio.Task[None]"] = None
        self._failure: Optional[CameraServiceError] = None
        self._expiry_reported = False
        self._tasks: Set["asyncio.Task[Any]"] = set()
        #: The authenticate result of the current connection (None before, or without a token).
        self.session: Optional[AuthenticateResult] = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """idle, connecting, connected, reconnecting or closed."""
        return self._state

    async def connect(self) -> None:
        """Opens the connection and authenticates with the token, if any.

        Raises NotConnected when the service cannot be reached, AuthenticationFailed (or
        AuthExpired) when the token is refused.
        """
        if self._state == "closed":
            raise NotConnected("The client is closed: make a new one.")
        if self._state != "idle":
            return
        self._changed = asyncio.Event()
        self._state = "connecting"
        try:
            ws, reader = await self._open()
        except BaseException:
            self._state = "idle"
            raise
        self._supervisor = asyncio.create_task(self._supervise(ws, reader))
        self._emit("connected")

    async def close(self) -> None:
        """Closes the connection for good: no reconnection; pending calls fail. Idempotent."""
        if self._state == "closed":
            return
        self._state = "closed"
        self._failure = NotConnected("The client is closed.")
        self._notify_change()
        # The supervisor first: a reconnection it is making must not open a new socket.
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            try:
                await supervisor
            except asyncio.CancelledError:
                pass
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 2.0)
            except (asyncio.TimeoutError, OSError, WebSocketException):
                pass
        self._fail_pending(NotConnected("The client was closed before the call was answered."))
        for stream in list(self._streams):
            stream._end()
        self._streams.clear()

    async def __aenter__(self) -> "Client":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- events ----------------------------------------------------------------------------

    def on(self, event: EventName, callback: Callback) -> Callable[[], None]:
        """Calls `callback` on each `event`; returns a function that stops it.

        connected(), disconnected(code, reason), reconnecting(attempt, delay),
        auth_expired(error), notification(notification).
        """
        if event not in self._listeners:
            raise ValueError(f"unknown event {event!r}: one of {', '.join(EVENTS)}")
        self._listeners[event].append(callback)

        def off() -> None:
            if callback in self._listeners[event]:
                self._listeners[event].remove(callback)

        return off

    def _emit(self, event: str, *args: Any) -> None:
        for callback in list(self._listeners[event]):
            try:
                outcome = callback(*args)
                if inspect.isawaitable(outcome):
                    task = asyncio.ensure_future(outcome)
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            except Exception:  # a listener's failure is its own
                log.exception("the %s listener failed", event)

    def notifications(self, *methods: str, max_queued: Optional[int] = None) -> NotificationStream:
        """The server's notifications from now on (only `methods`, when given), in order."""
        stream = NotificationStream(self, methods, max_queued or self._notification_queue)
        if self._state == "closed":
            stream._end()
        else:
            self._streams.add(stream)
        return stream

    # -- calls -----------------------------------------------------------------------------

    async def call(
        self, method: str, params: Optional[Mapping[str, Any]] = None, *, timeout: Optional[float] = None
    ) -> Any:
        """Calls any method by name; returns its result or raises its RpcError subclass."""
        ws = await self._usable()
        return await self._request(ws, method, params, timeout)

    async def authenticate(self, auth_token: str, *, timeout: Optional[float] = None) -> AuthenticateResult:
        """Authenticates this connection with `auth_token`, and every later one (reconnections)."""
        result = await super().authenticate(auth_token, timeout=timeout)
        self._token = auth_token
        self._expiry_reported = False
        self.session = result
        return result

    authenticate.__doc__ = (
        f"{GeneratedMethods.authenticate.__doc__}\n"
        "        The client keeps the token: every reconnection authenticates with it.\n"
    )

    async def download_file(
        self,
        kind: FileKind,
        name: str,
        *,
        to: Optional[str] = None,
        on_progress: Optional[ProgressCallback] = None,
        resume: bool = True,
        max_retries: int = 5,
        timeout: float = 30.0,
    ) -> DownloadResult:
        """Downloads a recording or a snapshot over HTTP with the client's credential.

        Args:
            kind: "recordings" or "snapshots".
            name: The file name, as list_recordings / list_snapshots give it.
            to: The file to write (a directory: the name inside it); default: `name` here.
            on_progress: Called with (bytes so far, total) after each chunk.
            resume: Resume a dropped download with HTTP Range (If-Range on its ETag), up to
                `max_retries` times, and a partial file an earlier call left; False: start
                over and fail on the first drop.
            timeout: Seconds any one read may wait.

        Raises DownloadError (with `.status`, e.g. 404 for a missing file, 401 for a refused
        credential) or when the size written is not the size announced.
        """
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        return await download(
            self.files_url, kind, name, headers=headers, to=to, on_progress=on_progress,
            resume=resume, max_retries=max_retries, timeout=timeout, ssl_context=self._ssl,
        )

    async def _usable(self) -> Any:
        if self._state == "idle":
            raise NotConnected("Not connected: call connect() first, or use `async with Client(...)`.")
        while True:
            if self._failure is not None:
                raise self._failure
            if self._state == "connected" and self._ws is not None:
                return self._ws
            if self._on_disconnect == "fail":
                raise NotConnected(f"Not connected ({self._state}): the call was not sent.")
            assert self._changed is not None
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), self._reconnect_wait)
            except asyncio.TimeoutError:
                raise NotConnected(
                    f"The connection did not come back within {self._reconnect_wait} s: the call was not sent."
                ) from None

    def _notify_change(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def _request(
        self, ws: Any, method: str, params: Optional[Mapping[str, Any]], timeout: Optional[float]
    ) -> Any:
        call_id = next(self._ids)
        future: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._pending[call_id] = (method, future)
        message: Dict[str, Any] = {"jsonrpc": "2.0", "id": call_id, "method": method}
        if params:
            message["params"] = dict(params)
        try:
            try:
                await ws.send(json.dumps(message))
            except ConnectionClosed as error:
                raise ConnectionLost(f"{method}: the connection closed before the call was sent.") from error
            wait = self._request_timeout if timeout is None else timeout
            try:
                return await asyncio.wait_for(future, wait)
            except asyncio.TimeoutError:
                raise CallTimeout(f"{method}: no answer within {wait} s.") from None
        finally:
            self._pending.pop(call_id, None)

    def _fail_pending(self, error: CameraServiceError) -> None:
        pending, self._pending = self._pending, {}
        for method, future in pending.values():
            if not future.done():
                future.set_exception(type(error)(f"{method}: {error}"))

    # -- the connection --------------------------------------------------------------------

    async def _open(self) -> Tuple[Any, "asyncio.Task[None]"]:
        """Connects and authenticates; returns the socket and its reader task."""
        try:
            ws = await _connect(
                self.url, open_timeout=self._connect_timeout, max_size=self._max_message_bytes,
                ping_interval=20, ping_timeout=20, close_timeout=2,
                **({"ssl": self._ssl} if self._ssl is not None else {}),
            )
        except (OSError, asyncio.TimeoutError, WebSocketException) as error:
            raise NotConnected(f"Could not connect to {self.url}: {error or type(error).__name__}") from error
        reader = asyncio.create_task(self._read(ws))
        try:
            if self._token is not None:
                self.session = await self._request(
                    ws, "authenticate", {"auth_token": self._token}, self._connect_timeout
                )
        except BaseException:
            await ws.close()
            reader.cancel()
            raise
        self._ws = ws
        self._state = "connected"
        self._notify_change()
        return ws, reader

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    log.warning("the server sent a message that is not JSON")
                    continue
                for item in message if isinstance(message, list) else [message]:
                    if isinstance(item, dict):
                        self._dispatch(item)
        except ConnectionClosed:
            pass
        except Exception:  # never leave a socket nobody reads: close it, and reconnect
            log.exception("reading from the service failed")
            await ws.close()
        finally:
            if self._ws is not ws:  # it closed while authenticating: _open is waiting for it
                self._fail_pending(ConnectionLost("the connection closed while authenticating."))

    def _dispatch(self, item: Dict[str, Any]) -> None:
        call_id = item.get("id")
        if isinstance(call_id, int) and ("result" in item or "error" in item):
            entry = self._pending.get(call_id)
            if entry is None:
                return
            method, future = entry
            if future.done():
                return
            if "error" in item:
                future.set_exception(self._error(method, item["error"]))
            else:
                future.set_result(item["result"])
            return
        name = item.get("method")
        if isinstance(name, str) and "id" not in item:
            params = item.get("params")
            note = Notification(name, params if isinstance(params, dict) else {})
            for stream in list(self._streams):
                stream._offer(note)
            self._emit("notification", note)

    def _error(self, method: str, error: Any) -> RpcError:
        if not isinstance(error, dict):
            return RpcError(f"The server answered an unreadable error: {error!r}", code=0, method=method)
        code = error.get("code")
        message = str(error.get("message", "The server answered an error."))
        data = error.get("data") if isinstance(error.get("data"), dict) else None
        cls: Type[RpcError] = ERROR_CLASSES.get(code, RpcError) if isinstance(code, int) else RpcError
        reason = data.get("reason") if data is not None else None
        # After the expiry the connection is unauthenticated: "authentication_required" then
        # still means the credential expired.
        if cls is AuthenticationFailed and (
            reason == "token_expired" or (reason == "authentication_required" and self._expiry_reported)
        ):
            expired = AuthExpired(message, code=code, data=data, method=method)
            if not self._expiry_reported:
                self._expiry_reported = True
                self._emit("auth_expired", expired)
            return expired
        return cls(message, code=code if isinstance(code, int) else 0, data=data, method=method)

    def _delay(self, attempt: int) -> float:
        initial, factor, most, jitter = self._backoff
        delay = min(most, initial * factor ** (attempt - 1))
        return float(delay * (1 - jitter * random.random()))

    async def _supervise(self, ws: Any, reader: "asyncio.Task[None]") -> None:
        """Waits for the connection to drop, then reconnects, until closed or given up."""
        while True:
            await reader
            if self._state == "closed":
                return
            self._ws = None
            self._fail_pending(ConnectionLost("the connection closed before the call was answered."))
            self._emit("disconnected", ws.close_code, ws.close_reason or "")
            if not self._reconnect:
                self._give_up(NotConnected("The connection closed (reconnect is off)."))
                return
            self._state = "reconnecting"
            self._notify_change()
            attempt = 0
            while True:
                attempt += 1
                if self._max_attempts is not None and attempt > self._max_attempts:
                    self._give_up(NotConnected(f"Could not reconnect in {self._max_attempts} attempts."))
                    return
                delay = self._delay(attempt)
                self._emit("reconnecting", attempt, delay)
                await asyncio.sleep(delay)
                try:
                    ws, reader = await self._open()
                    break
                except NotConnected as error:
                    log.info("reconnection attempt %d failed: %s", attempt, error)
                except AuthenticationFailed as error:
                    # The credential is refused (expired, revoked): trying again cannot help.
                    self._give_up(error)
                    return
                except RpcError as error:  # e.g. rate limited: try again later
                    log.info("reconnection attempt %d was refused: %s", attempt, error)
                except (CallTimeout, ConnectionLost) as error:
                    log.info("reconnection attempt %d failed while authenticating: %s", attempt, error)
            self._emit("connected")

    def _give_up(self, error: CameraServiceError) -> None:
        self._failure = error
        self._state = "closed"
        self._notify_change()
        for stream in list(self._streams):
            stream._end()
        self._streams.clear()
