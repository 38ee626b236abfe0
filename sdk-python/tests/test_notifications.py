"""Notifications as an async iterator and as callbacks: a recording's start and stop
arrive as recording_status_update (STARTED, then STOPPED with its files), typed as the
generated notification types; a stream filtered by method sees only those; a closed
client ends every stream."""

from __future__ import annotations

import asyncio
from typing import Any, List

from camera_service_sdk import NOTIFICATIONS, Client, Notification
from conftest import conforms, run
from service import Service


def test_recording_start_and_stop_arrive(service: Service, operator_token: str) -> None:
    async def main() -> None:
        seen: List[Notification] = []
        async with Client(service.ws_url, token=operator_token) as client:
            client.on("notification", seen.append)
            everything = client.notifications()
            recordings = client.notifications("recording_status_update")
            started = await client.start_recording("test0", duration=1.5)

            got: List[Any] = []
            async for note in recordings:
                assert note.method == "recording_status_update"
                if note.params["session_id"] != started["session_id"]:
                    continue
                conforms(note.params, NOTIFICATIONS[note.method], note.method)
                got.append(note.params)
                if note.params["status"] in ("STOPPED", "FAILED"):
                    break
            assert [g["status"] for g in got] == ["STARTED", "STOPPED"]
            assert got[1]["reason"] == "duration reached"
            assert got[1]["files"] and got[1]["files"][0] == started["filename"]

            # The unfiltered stream has them too, with the camera's updates between.
            methods = set()
            while everything._queue:
                note = await everything.next(timeout=1)
                conforms(note.params, NOTIFICATIONS[note.method], note.method)
                methods.add(note.method)
            assert methods == {"recording_status_update", "camera_status_update"}
            assert any(n.method == "recording_status_update" for n in seen)
            await client.delete_recording(started["filename"])
        # Closing the client ends the streams.
        assert [n async for n in recordings] == []

    run(main(), timeout=60)
