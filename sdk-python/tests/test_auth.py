"""A token that expires raises AuthExpired (an AuthenticationFailed, -32001) and fires
`auth_expired` once; authenticating with a new token carries on, and reconnections use
it. A refused token is AuthenticationFailed, not AuthExpired."""

from __future__ import annotations

import asyncio
import time
from typing import Any, List

import pytest

from camera_service_sdk import AuthenticationFailed, AuthExpired, Client
from conftest import run
from service import Service


def test_an_expiring_token_raises_auth_expired(service: Service) -> None:
    short = service.token("viewer", ttl="2")

    async def main() -> None:
        fired: List[Any] = []
        async with Client(service.ws_url, token=short) as client:
            client.on("auth_expired", fired.append)
            assert client.session is not None and client.session["expires_at"] is not None
            assert await client.ping() == "pong"
            deadline = time.monotonic() + 10
            while True:  # the token lives 2 s: the first call after that is refused
                try:
                    await client.ping()
                except AuthExpired as error:
                    caught = error
                    break
                assert time.monotonic() < deadline, "the token did not expire"
                await asyncio.sleep(0.1)
            assert isinstance(caught, AuthenticationFailed)
            assert caught.code == -32001
            assert caught.data is not None and caught.data["reason"] == "token_expired"
            with pytest.raises(AuthExpired):
                await client.ping()
            assert fired == [caught], "auth_expired fires once per credential"

            # A new token: authenticate, and the client keeps it.
            await client.authenticate(service.token("viewer"))
            assert await client.ping() == "pong"

    run(main())


def test_an_expired_token_cannot_connect(service: Service) -> None:
    short = service.token("viewer", ttl="1")

    async def main() -> None:
        await asyncio.sleep(1.5)  # let it expire (JWT exp has one-second resolution)
        fired: List[Any] = []
        client = Client(service.ws_url, token=short)
        client.on("auth_expired", fired.append)
        with pytest.raises(AuthExpired):
            await client.connect()
        assert len(fired) == 1
        with pytest.raises(AuthenticationFailed) as refused:
            await Client(service.ws_url, token="not-a-token").connect()
        assert not isinstance(refused.value, AuthExpired)
        assert refused.value.code == -32001

    run(main())
