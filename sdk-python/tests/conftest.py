"""Fixtures: the real service (one for the session, fresh ones where a test kills it),
tokens minted by it, and a check that a value has the shape of a generated type."""

from __future__ import annotations

import asyncio
import sys
import typing
from pathlib import Path
from typing import Any, Awaitable, Iterator, TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service import Service  # noqa: E402

T = TypeVar("T")


def run(coro: Awaitable[T], timeout: float = 60.0) -> T:
    """Runs a coroutine to its end on a new event loop, bounded."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = Service(tmp_path_factory.mktemp("service")).start()
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="session")
def operator_token(service: Service) -> str:
    return service.token("operator")


@pytest.fixture(scope="session")
def admin_token(service: Service) -> str:
    return service.token("admin")


def conforms(value: Any, hint: Any, where: str = "result") -> None:
    """Asserts `value` has the shape `hint` (a generated TypedDict, List, Literal...) says."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return
    if origin is typing.NotRequired:
        return conforms(value, args[0], where)
    if origin is typing.Literal:
        assert value in args, f"{where}: {value!r} is not one of {args}"
        return
    if origin is typing.Union:
        errors = []
        for option in args:
            try:
                conforms(value, option, where)
                return
            except AssertionError as error:
                errors.append(str(error))
        raise AssertionError(f"{where}: {value!r} fits none of {args}: {errors}")
    if hint is type(None):
        assert value is None, f"{where}: {value!r} is not null"
        return
    if origin is list:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for i, item in enumerate(value):
            conforms(item, args[0], f"{where}[{i}]")
        return
    if origin is dict:
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        for key, item in value.items():
            conforms(item, args[1], f"{where}.{key}")
        return
    if typing.is_typeddict(hint):
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        hints = typing.get_type_hints(hint, include_extras=True)
        missing = set(hint.__required_keys__) - set(value)
        assert not missing, f"{where}: missing {sorted(missing)}"
        unknown = set(value) - set(hints)
        assert not unknown, f"{where}: fields the contract does not declare: {sorted(unknown)}"
        for key, item in value.items():
            conforms(item, hints[key], f"{where}.{key}")
        return
    if hint is float:
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{where}: {value!r} is not a number"
        return
    if hint is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r} is not an integer"
        return
    assert isinstance(value, hint), f"{where}: {value!r} is not {hint}"
