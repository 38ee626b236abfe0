"""Downloads of recordings and snapshots: HTTP GET /files/<kind>/<name> on the API port.

Only the standard library: one HTTP/1.1 request per attempt over asyncio streams (TLS
for https), the body streamed to `<to>.part` a chunk at a time, never held whole. A
dropped connection is resumed where it stopped with `Range: bytes=<n>-` and `If-Range:
<etag>`, so a file that changed in between is fetched again whole rather than spliced.
The ETag is kept beside the partial file (`<to>.part.etag`), so a later call resumes
too. The file is renamed to `to` only when its size is the size the server announced.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import ssl
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Literal, Optional, Tuple, Union
from urllib.parse import quote, urlsplit

from .errors import DownloadError

FileKind = Literal["recordings", "snapshots"]
#: Called with (bytes written so far, total size or None) after every chunk; may be async.
ProgressCallback = Callable[[int, Optional[int]], Union[None, Awaitable[None]]]

#: The most header lines and bytes of an error body read from the server.
_MAX_HEADERS = 100
_MAX_ERROR_BODY = 64 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_UNSATISFIED_RANGE = re.compile(r"^bytes \*/(\d+)$")


@dataclass(frozen=True)
class DownloadResult:
    """A finished download."""

    #: Where the file is.
    path: str
    #: Its size, as the server announced it and as written (they are equal).
    size: int
    #: Whether some of it was fetched with a Range request (after a drop, or from an earlier call).
    resumed: bool
    #: HTTP requests it took.
    attempts: int
    #: The file's ETag on the server.
    etag: Optional[str]


def files_base_url(ws_url: str) -> str:
    """http(s)://host:port of the API port, from the WebSocket URL."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https", "http": "http", "https": "https"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"{ws_url} is not a ws:// or wss:// URL")
    return f"{scheme}://{parts.netloc}"


class _Dropped(Exception):
    """The connection ended before the body did."""


async def _request(
    base: str, path: str, headers: Dict[str, str], timeout: float, ssl_context: Optional[ssl.SSLContext]
) -> Tuple[int, Dict[str, str], asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(base)
    secure = parts.scheme == "https"
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if secure else 80)
    context = (ssl_context or ssl.create_default_context()) if secure else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=context), timeout
    )
    try:
        lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close",
                 "Accept-Encoding: identity", "User-Agent: camera-service-sdk-python"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        status_line = (await asyncio.wait_for(reader.readline(), timeout)).decode("latin-1")
        match = re.match(r"^HTTP/1\.[01] (\d{3})", status_line)
        if match is None:
            raise _Dropped(f"no HTTP answer (got {status_line.strip()[:80]!r})")
        answer: Dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            line = (await asyncio.wait_for(reader.readline(), timeout)).decode("latin-1")
            if line in ("\r\n", "\n"):
                return int(match.group(1)), answer, reader, writer
            if line == "":
                raise _Dropped("the connection closed in the headers")
            name, _, value = line.partition(":")
            answer[name.strip().lower()] = value.strip()
        raise DownloadError(f"The server sent more than {_MAX_HEADERS} header lines.")
    except BaseException:
        writer.close()
        raise


async def _error_of(status: int, headers: Dict[str, str], reader: asyncio.StreamReader,
                    timeout: float, what: str) -> DownloadError:
    length = min(int(headers.get("content-length", "0") or 0), _MAX_ERROR_BODY)
    message = f"{what}: the server answered HTTP {status}."
    try:
        body = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
        error = json.loads(body).get("error") if body else None
        if isinstance(error, str):
            message = f"{what}: {error} (HTTP {status})"
    except (asyncio.IncompleteReadError, ValueError, AttributeError, asyncio.TimeoutError, OSError):
        pass
    return DownloadError(message, status=status)


def _length(headers: Dict[str, str], what: str) -> int:
    text = headers.get("content-length", "")
    if not text.isdigit():
        raise DownloadError(f"{what}: the server sent no Content-Length, so the size cannot be verified.")
    return int(text)


async def _report(on_progress: Optional[ProgressCallback], done: int, total: Optional[int]) -> None:
    if on_progress is None:
        return
    outcome = on_progress(done, total)
    if inspect.isawaitable(outcome):
        await outcome


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


async def download(
    base_url: str,
    kind: FileKind,
    name: str,
    *,
    headers: Dict[str, str],
    to: Optional[str] = None,
    on_progress: Optional[ProgressCallback] = None,
    resume: bool = True,
    max_retries: int = 5,
    timeout: float = 30.0,
    chunk_size: int = 256 * 1024,
    retry_delay: float = 0.2,
    ssl_context: Optional[ssl.SSLContext] = None,
) -> DownloadResult:
    """Downloads `/files/<kind>/<name>` from `base_url` to `to` (see `Client.download_file`)."""
    if kind not in ("recordings", "snapshots"):
        raise ValueError(f'kind is "recordings" or "snapshots", not {kind!r}')
    target = to if to is not None else name
    if os.path.isdir(target):
        target = os.path.join(target, name)
    part, tag_file = f"{target}.part", f"{target}.part.etag"
    what = f"Downloading {kind}/{name}"
    path = f"/files/{kind}/{quote(name, safe='')}"

    offset, etag = 0, None
    if resume and os.path.exists(part) and os.path.exists(tag_file):
        with open(tag_file, encoding="utf-8") as f:
            etag = f.read().strip() or None
        offset = os.path.getsize(part) if etag else 0
    if offset == 0:
        _remove(part)
        _remove(tag_file)

    attempts, resumed, total = 0, False, None
    while True:
        attempts += 1
        wanted: Dict[str, Any] = dict(headers)
        if offset > 0 and etag is not None:
            wanted["Range"] = f"bytes={offset}-"
            wanted["If-Range"] = etag
        try:
            status, answer, reader, writer = await _request(base_url, path, wanted, timeout, ssl_context)
            try:
                if status == 416 and offset > 0:
                    unsatisfied = _UNSATISFIED_RANGE.match(answer.get("content-range", ""))
                    if unsatisfied and int(unsatisfied.group(1)) == offset:
                        total = offset  # it was complete already
                        break
                    offset, etag = 0, None
                    _remove(part)
                    continue
                if status == 200:
                    offset, start = 0, 0
                    etag = answer.get("etag")
                    length = _length(answer, what)
                    total = length
                elif status == 206:
                    ranged = _CONTENT_RANGE.match(answer.get("content-range", ""))
                    if ranged is None or int(ranged.group(1)) != offset:
                        raise DownloadError(f"{what}: the server sent another range than asked for.")
                    start = offset
                    length = _length(answer, what)
                    total = int(ranged.group(3))
                    resumed = True
                else:
                    raise await _error_of(status, answer, reader, timeout, what)
                if etag is not None:
                    with open(tag_file, "w", encoding="utf-8") as f:
                        f.write(etag)
                with open(part, "ab" if start > 0 else "wb") as out:
                    await _report(on_progress, offset, total)
                    left = length
                    while left > 0:
                        chunk = await asyncio.wait_for(reader.read(min(chunk_size, left)), timeout)
                        if not chunk:
                            raise _Dropped(f"the connection closed {left} bytes before the end")
                        out.write(chunk)
                        left -= len(chunk)
                        offset += len(chunk)
                        await _report(on_progress, offset, total)
            finally:
                writer.close()
            break
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, _Dropped) as error:
            reason = str(error) or type(error).__name__
            if not resume or etag is None or attempts > max_retries:
                raise DownloadError(
                    f"{what} failed after {attempts} attempt{'s' if attempts > 1 else ''}: {reason}. "
                    "Call download_file again to resume." if etag is not None and resume
                    else f"{what} failed: {reason}."
                ) from error
            await asyncio.sleep(retry_delay * attempts)

    written = os.path.getsize(part) if os.path.exists(part) else 0
    if total is None or written != total:
        raise DownloadError(f"{what}: wrote {written} bytes, the server announced {total}.")
    os.replace(part, target)
    _remove(tag_file)
    return DownloadResult(path=target, size=total, resumed=resumed, attempts=attempts, etag=etag)
