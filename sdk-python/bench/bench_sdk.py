"""The Python SDK's figures for `npm run bench -- python` (bench/python-bench.ts runs it).

    bench_sdk.py calls URL TOKEN SECONDS C [C...]   ping calls/s and latency at each concurrency
    bench_sdk.py download URL TOKEN NAME TO        one download_file of recordings/NAME

Prints one JSON object on stdout. Concurrency C is C tasks calling one after the other
on the one client (one WebSocket), for SECONDS each after a short warm-up.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from camera_service_sdk import Client  # noqa: E402


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def calls(url: str, token: str, seconds: float, levels: List[int]) -> Dict[str, Any]:
    results = []
    async with Client(url, token=token, request_timeout=30) as client:
        for concurrency in levels:
            latencies: List[float] = []
            stop = 0.0

            async def worker(record: bool) -> None:
                while time.perf_counter() < stop:
                    started = time.perf_counter()
                    await client.ping()
                    if record:
                        latencies.append((time.perf_counter() - started) * 1000)

            stop = time.perf_counter() + min(1.0, seconds / 5)  # warm-up
            await asyncio.gather(*(worker(False) for _ in range(concurrency)))
            began = time.perf_counter()
            stop = began + seconds
            await asyncio.gather(*(worker(True) for _ in range(concurrency)))
            elapsed = time.perf_counter() - began
            results.append({
                "concurrency": concurrency,
                "calls": len(latencies),
                "seconds": round(elapsed, 3),
                "per_second": round(len(latencies) / elapsed, 1),
                "p50_ms": round(percentile(latencies, 0.5), 3),
                "p99_ms": round(percentile(latencies, 0.99), 3),
            })
    return {"calls": results}


async def download(url: str, token: str, name: str, to: str) -> Dict[str, Any]:
    async with Client(url, token=token) as client:
        started = time.perf_counter()
        result = await client.download_file("recordings", name, to=to, resume=False)
        elapsed = time.perf_counter() - started
    return {"bytes": result.size, "seconds": elapsed, "mb_per_second": result.size / 1e6 / elapsed}


def main(argv: List[str]) -> int:
    if len(argv) >= 5 and argv[0] == "calls":
        out = asyncio.run(calls(argv[1], argv[2], float(argv[3]), [int(c) for c in argv[4:]]))
    elif len(argv) == 5 and argv[0] == "download":
        out = asyncio.run(download(argv[1], argv[2], argv[3], argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
