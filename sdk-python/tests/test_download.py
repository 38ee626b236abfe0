"""download_file: a 50 MB recording through a loopback proxy that cuts the first
connection after 8 MB resumes with Range/If-Range (a 206 on the second connection) and
its bytes equal the file's (sha256); a partial file an earlier call left is resumed by
the next call; progress is reported; a missing file is a 404 DownloadError; without
resume a drop fails."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from camera_service_sdk import Client, DownloadError
from conftest import run
from service import Service

NAME = "test0_2026-01-01_00-00-00_001.mp4"
SIZE = 50 * 1024 * 1024
CUT = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def big_file(service: Service) -> Tuple[str, str]:
    service.recordings.mkdir(parents=True, exist_ok=True)
    path = service.recordings / NAME
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(SIZE // (1024 * 1024)):
            block = os.urandom(1024 * 1024)
            digest.update(block)
            f.write(block)
    return NAME, digest.hexdigest()


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class CuttingProxy:
    """Forwards loopback TCP to the service; cuts the first `cuts` connections after
    `after` bytes of the answer. Keeps each request's head and each answer's status line."""

    def __init__(self, port: int, after: int, cuts: int = 1) -> None:
        self.port, self.after, self.cuts = port, after, cuts
        self.requests: List[str] = []
        self.statuses: List[str] = []
        self.server: Optional[asyncio.AbstractServer] = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        index = len(self.requests)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.port)
        head = await client_r.readuntil(b"\r\n\r\n")
        self.requests.append(head.decode("latin-1"))
        up_w.write(head)
        await up_w.drain()
        limit = self.after if index < self.cuts else None
        sent, first = 0, True
        try:
            while True:
                chunk = await up_r.read(65536)
                if not chunk:
                    break
                if first:
                    self.statuses.append(chunk.split(b"\r\n", 1)[0].decode("latin-1"))
                    first = False
                if limit is not None and sent + len(chunk) > limit:
                    client_w.write(chunk[: limit - sent])
                    await client_w.drain()
                    client_w.transport.abort()  # dropped, as a network would
                    return
                sent += len(chunk)
                client_w.write(chunk)
                await client_w.drain()
        finally:
            up_w.close()
            client_w.close()


def test_a_dropped_download_resumes_and_equals_the_file(
    service: Service, operator_token: str, big_file: Tuple[str, str], tmp_path: Path
) -> None:
    name, digest = big_file

    async def main() -> None:
        proxy = CuttingProxy(service.port, CUT)
        files_url = await proxy.start()
        progress: List[Tuple[int, Optional[int]]] = []
        try:
            async with Client(service.ws_url, token=operator_token, files_url=files_url) as client:
                result = await client.download_file(
                    "recordings", name, to=str(tmp_path / "copy.mp4"),
                    on_progress=lambda done, total: progress.append((done, total)),
                )
        finally:
            await proxy.close()
        assert result.size == SIZE and result.resumed and result.attempts == 2
        assert sha256(result.path) == digest
        assert len(proxy.requests) == 2
        assert "Range" not in proxy.requests[0]
        ranged = re.search(r"\r\nRange: bytes=(\d+)-\r\n", proxy.requests[1])
        assert ranged is not None and CUT - 1024 < int(ranged.group(1)) < CUT  # less the headers
        assert f"If-Range: {result.etag}" in proxy.requests[1]
        assert "Authorization: Bearer " in proxy.requests[1]
        assert proxy.statuses[0].startswith("HTTP/1.1 200") and proxy.statuses[1].startswith("HTTP/1.1 206")
        assert progress[-1] == (SIZE, SIZE)
        assert all(b[0] >= a[0] for a, b in zip(progress, progress[1:]))
        assert not os.path.exists(f"{result.path}.part")

    run(main(), timeout=120)


def test_a_later_call_resumes_a_partial_file(
    service: Service, operator_token: str, big_file: Tuple[str, str], tmp_path: Path
) -> None:
    name, digest = big_file
    target = str(tmp_path / "later.mp4")

    async def main() -> None:
        proxy = CuttingProxy(service.port, CUT)
        files_url = await proxy.start()
        try:
            async with Client(service.ws_url, token=operator_token, files_url=files_url) as client:
                with pytest.raises(DownloadError, match="Call download_file again to resume"):
                    await client.download_file("recordings", name, to=target, max_retries=0)
                assert 0 < os.path.getsize(f"{target}.part") <= CUT
                result = await client.download_file("recordings", name, to=target)
        finally:
            await proxy.close()
        assert result.resumed and result.attempts == 1
        assert "Range: bytes=" in proxy.requests[1]
        assert sha256(target) == digest

    run(main(), timeout=120)


def test_download_errors(service: Service, operator_token: str, big_file: Tuple[str, str], tmp_path: Path) -> None:
    name, _ = big_file

    async def main() -> None:
        async with Client(service.ws_url, token=operator_token) as client:
            with pytest.raises(DownloadError) as missing:
                await client.download_file("recordings", "missing.mp4", to=str(tmp_path))
            assert missing.value.status == 404
        async with Client(service.ws_url) as anonymous:
            with pytest.raises(DownloadError) as refused:
                await anonymous.download_file("recordings", name, to=str(tmp_path))
            assert refused.value.status == 401
        proxy = CuttingProxy(service.port, CUT)
        files_url = await proxy.start()
        try:
            async with Client(service.ws_url, token=operator_token, files_url=files_url) as client:
                with pytest.raises(DownloadError, match="failed"):
                    await client.download_file("recordings", name, to=str(tmp_path / "x.mp4"), resume=False)
        finally:
            await proxy.close()

    run(main(), timeout=120)


def test_download_into_a_directory_uses_the_name(
    service: Service, operator_token: str, big_file: Tuple[str, str], tmp_path: Path
) -> None:
    name, digest = big_file

    async def main() -> str:
        async with Client(service.ws_url, token=operator_token) as client:
            return (await client.download_file("recordings", name, to=str(tmp_path), resume=False)).path

    path = run(main(), timeout=120)
    assert path == str(tmp_path / name) and sha256(path) == digest
