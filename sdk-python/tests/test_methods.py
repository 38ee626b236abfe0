"""Every generated method exists and round-trips with the server's contract: each is
called with valid params against the real service and its result has the generated
type's shape; the declared errors arrive as their classes with their codes."""

from __future__ import annotations

import asyncio
import inspect
import typing
from typing import Any, Awaitable, Callable, Dict

import pytest

import camera_service_sdk as sdk
from camera_service_sdk import Client
from conftest import conforms, run
from service import Service

Case = Callable[[Client, Dict[str, Any]], Awaitable[Any]]


async def _take_snapshot(c: Client, state: Dict[str, Any]) -> Any:
    result = await c.take_snapshot("test0", filename="roundtrip.jpg", quality=80, overwrite=True, timeout=30)
    state["snapshot"] = result["filename"]
    return result


async def _start_recording(c: Client, state: Dict[str, Any]) -> Any:
    return await c.start_recording("test0", format="mp4", timeout=30)


async def _stop_recording(c: Client, state: Dict[str, Any]) -> Any:
    # A file exists once a first fragment is written: wait for a second of recording.
    deadline = asyncio.get_running_loop().time() + 20
    while ((await c.get_camera_status("test0"))["recording"]["elapsed_seconds"] or 0) < 1.5:
        assert asyncio.get_running_loop().time() < deadline, "the recording did not run"
        await asyncio.sleep(0.1)
    result = await c.stop_recording("test0", timeout=30)
    state["recording"] = result["filename"]
    return result


async def _create_api_key(c: Client, state: Dict[str, Any]) -> Any:
    result = await c.create_api_key("roundtrip", "viewer")
    state["key_id"] = result["id"]
    return result


# In this order: the later ones use what the earlier ones made.
CASES: Dict[str, Case] = {
    "authenticate": lambda c, s: c.authenticate(s["token"]),
    "ping": lambda c, s: c.ping(),
    "get_server_info": lambda c, s: c.get_server_info(),
    "get_status": lambda c, s: c.get_status(),
    "get_metrics": lambda c, s: c.get_metrics(),
    "get_streams": lambda c, s: c.get_streams(),
    "get_camera_list": lambda c, s: c.get_camera_list(),
    "get_camera_status": lambda c, s: c.get_camera_status("test0"),
    "take_snapshot": _take_snapshot,
    "start_recording": _start_recording,
    "stop_recording": _stop_recording,
    "list_recordings": lambda c, s: c.list_recordings(limit=10, offset=0, sort="newest"),
    "list_snapshots": lambda c, s: c.list_snapshots(limit=10, sort="name", device="test0"),
    "get_recording_info": lambda c, s: c.get_recording_info(s["recording"], timeout=30),
    "get_snapshot_info": lambda c, s: c.get_snapshot_info(s["snapshot"]),
    "delete_recording": lambda c, s: c.delete_recording(s["recording"]),
    "delete_snapshot": lambda c, s: c.delete_snapshot(s["snapshot"]),
    "get_storage_info": lambda c, s: c.get_storage_info(),
    "set_retention_policy": lambda c, s: c.set_retention_policy(policy_type="age", enabled=False, max_age_days=30),
    "cleanup_old_files": lambda c, s: c.cleanup_old_files(),
    "create_api_key": _create_api_key,
    "list_api_keys": lambda c, s: c.list_api_keys(),
    "revoke_api_key": lambda c, s: c.revoke_api_key(s["key_id"]),
}


def test_every_contract_has_a_method_and_a_case() -> None:
    # A method added on the server is in METHODS once `npm run gen:api` ran (the drift
    # test fails until it did); this fails until the new method is exercised here.
    assert set(CASES) == set(sdk.METHODS)
    for name in sdk.METHODS:
        method = getattr(Client, name)
        assert inspect.iscoroutinefunction(method), name
        assert "Raises:" in (method.__doc__ or ""), f"{name} documents its errors"
        pascal = "".join(part.capitalize() for part in name.split("_"))
        assert hasattr(sdk, f"{pascal}Params") and hasattr(sdk, f"{pascal}Result"), name


def test_the_sdk_has_exactly_the_servers_methods(service: Service, admin_token: str) -> None:
    async def main() -> Any:
        async with Client(service.ws_url, token=admin_token) as c:
            return await c.get_server_info()

    info = run(main())
    assert sorted(sdk.METHODS) == sorted(info["methods"])


def test_every_method_round_trips_with_its_contract(service: Service, admin_token: str) -> None:
    async def main() -> Dict[str, Any]:
        results: Dict[str, Any] = {}
        state: Dict[str, Any] = {"token": admin_token}
        async with Client(service.ws_url, token=admin_token) as c:
            for name, case in CASES.items():
                results[name] = await case(c, state)
        return results

    results = run(main(), timeout=120)
    for name, result in results.items():
        hint = typing.get_type_hints(getattr(Client, name))["return"]
        conforms(result, hint, name)
    assert results["ping"] == "pong"
    assert results["authenticate"]["role"] == "admin"
    assert [c["device"] for c in results["get_camera_list"]["cameras"]] == ["test0"]
    assert results["get_snapshot_info"]["filename"] == "roundtrip.jpg"


def test_declared_errors_raise_their_classes_with_their_codes(service: Service, operator_token: str) -> None:
    async def expect(call: Awaitable[Any], cls: type, code: int) -> None:
        with pytest.raises(cls) as caught:
            await call
        assert caught.value.code == code
        assert isinstance(caught.value, sdk.RpcError)
        assert caught.value.message

    async def main() -> None:
        async with Client(service.ws_url, token=operator_token) as c:
            await expect(c.get_camera_status("nope"), sdk.CameraNotFound, -1000)
            await expect(c.stop_recording("test0"), sdk.NotRecording, -1007)
            await expect(c.get_recording_info("missing.mp4"), sdk.FileNotFound, -1004)
            await expect(c.get_snapshot_info("../x.jpg"), sdk.RpcError, -1011)
            await expect(c.get_server_info(), sdk.PermissionDenied, -32003)
            await expect(c.call("no_such_method"), sdk.MethodNotFound, -32601)
            await expect(c.call("get_camera_status", {"device": 7}), sdk.InvalidParams, -32602)
        async with Client(service.ws_url) as anonymous:
            await expect(anonymous.ping(), sdk.AuthenticationFailed, -32001)

    run(main())


def test_error_classes_cover_every_code() -> None:
    for code, cls in sdk.ERROR_CLASSES.items():
        assert issubclass(cls, sdk.RpcError)
        assert cls.default_code == code
        assert cls("x").code == code
