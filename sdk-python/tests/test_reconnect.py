"""The service is killed and restarted on the same port mid-session: the client
reconnects, authenticates again with the same token, and its next call succeeds within
2 s of the restart. A call in flight when the connection drops fails with ConnectionLost;
calls made while it is down wait (on_disconnect="wait") or fail at once ("fail"); a
closed client never reconnects."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest

from camera_service_sdk import Client, ConnectionLost, NotConnected
from conftest import run
from service import Service, free_port


@pytest.fixture()
def fixed_service(tmp_path: Path) -> Iterator[Service]:
    svc = Service(tmp_path, port=free_port()).start()
    try:
        yield svc
    finally:
        svc.stop()


def record(client: Client) -> List[Tuple[str, Tuple[Any, ...]]]:
    events: List[Tuple[str, Tuple[Any, ...]]] = []
    for name in ("connected", "disconnected", "reconnecting", "auth_expired"):
        client.on(name, lambda *args, name=name: events.append((name, args)))  # type: ignore[misc]
    return events


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        await asyncio.sleep(0.01)


def test_reconnects_and_reauthenticates_after_a_restart(fixed_service: Service) -> None:
    svc = fixed_service
    token = svc.token("operator")

    async def main() -> None:
        waiting = Client(svc.ws_url, token=token)
        failing = Client(svc.ws_url, token=token, on_disconnect="fail")
        events = record(waiting)
        async with waiting, failing:
            first = waiting.session
            assert first is not None and first["role"] == "operator"
            assert await waiting.ping() == "pong"

            # A call in flight: the service is frozen so it cannot answer, then killed.
            assert svc.process is not None
            svc.process.send_signal(signal.SIGSTOP)
            in_flight = asyncio.ensure_future(waiting.get_camera_list())
            await until(lambda: len(waiting._pending) == 1, 2, "the call sent")
            await asyncio.sleep(0.1)  # and past the send: frozen, nothing can answer it
            assert not in_flight.done()
            svc.kill()
            with pytest.raises(ConnectionLost):
                await in_flight
            await until(lambda: failing.state == "reconnecting", 5, "reconnecting state")

            # Down: "fail" refuses at once, "wait" waits for the restart.
            started = time.monotonic()
            with pytest.raises(NotConnected):
                await failing.ping()
            assert time.monotonic() - started < 0.1
            pending = asyncio.ensure_future(waiting.get_camera_list())
            await asyncio.sleep(0.5)
            assert not pending.done(), "a waiting call waits while the service is down"

            await asyncio.get_running_loop().run_in_executor(None, svc.start)
            restarted = time.monotonic()
            cameras = await pending
            assert [c["device"] for c in cameras["cameras"]] == ["test0"]
            # The fail-fast client refuses until it is back: then its next call succeeds.
            await until(lambda: failing.state == "connected", 2.0, "the fail-fast client back")
            assert await failing.ping() == "pong"
            elapsed = time.monotonic() - restarted
            assert elapsed < 2.0, f"the next call succeeded {elapsed:.2f} s after the restart"

            # Authenticated again, with the same token: a new session of the same role.
            second = waiting.session
            assert second is not None and second["role"] == "operator"
            assert second["session_id"] != first["session_id"]
            names = [name for name, _ in events]
            assert names[:2] == ["connected", "disconnected"] and "reconnecting" in names and names[-1] == "connected"
            attempt, delay = next(args for name, args in events if name == "reconnecting")
            assert attempt == 1 and 0 < delay <= 1.0

        assert waiting.state == "closed"

    run(main(), timeout=60)


def test_calls_wait_for_a_bounded_time(fixed_service: Service) -> None:
    svc = fixed_service

    async def main() -> None:
        async with Client(svc.ws_url, token=svc.token("viewer"), reconnect_wait=0.5) as client:
            svc.kill()
            await until(lambda: client.state == "reconnecting", 5, "reconnecting state")
            started = time.monotonic()
            with pytest.raises(NotConnected, match="did not come back within 0.5 s"):
                await client.ping()
            assert 0.4 < time.monotonic() - started < 1.5

    run(main())


def test_a_closed_client_never_reconnects(fixed_service: Service) -> None:
    svc = fixed_service

    async def main() -> None:
        client = Client(svc.ws_url, token=svc.token("viewer"))
        events = record(client)
        await client.connect()
        await client.close()
        await client.close()  # idempotent
        svc.kill()
        await asyncio.get_running_loop().run_in_executor(None, svc.start)
        await asyncio.sleep(0.5)
        assert client.state == "closed"
        assert [n for n, _ in events if n != "connected"] == []
        with pytest.raises(NotConnected):
            await client.ping()
        with pytest.raises(NotConnected):
            await client.connect()

    run(main())


def test_gives_up_after_max_attempts(tmp_path: Path) -> None:
    svc = Service(tmp_path, port=free_port()).start()

    async def main() -> None:
        async with Client(svc.ws_url, token=svc.token("viewer"), max_reconnect_attempts=2,
                          backoff_initial=0.05) as client:
            reconnecting: List[int] = []
            client.on("reconnecting", lambda attempt, delay: reconnecting.append(attempt))
            svc.kill()
            await until(lambda: client.state == "closed", 10, "giving up")
            assert reconnecting == [1, 2]
            with pytest.raises(NotConnected, match="2 attempts"):
                await client.ping()

    try:
        run(main())
    finally:
        svc.stop()
