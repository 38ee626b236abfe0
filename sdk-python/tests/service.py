"""The real camera service for the tests: `node packages/server/dist/src/bin.js` as a child.

Its environment is the one packages/server/test/helpers/process.ts `serviceEnv` gives a
test daemon: loopback only, free ports (or a fixed API port, to restart it on the same
one), JSON logs, every path inside the test's directory, the embedded relay, and a test
pattern camera `test0` (320x240, 10 fps). Its URLs come from the `listening` log line.
Tokens are minted with the service's own `token` command and the same secret.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "packages" / "server" / "dist" / "src" / "bin.js"
NODE = os.environ.get("CAMERA_SERVICE_NODE", "node")
JWT_SECRET = "test-secret-for-the-camera-service-0123456789"
TEST_CAMERA = "[{id: test0, test_pattern: {size: 320x240, fps: 10}}]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(directory: Path, port: int = 0, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CAMERA_SERVICE_")}
    for sub in ("dev", "sys"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    env = {
        **inherited,
        "CAMERA_SERVICE_SERVER_HOST": "127.0.0.1",
        "CAMERA_SERVICE_SERVER_PORT": str(port),
        "CAMERA_SERVICE_HEALTH_HOST": "127.0.0.1",
        "CAMERA_SERVICE_HEALTH_PORT": "0",
        "CAMERA_SERVICE_LOGGING_FORMAT": "json",
        "CAMERA_SERVICE_SERVICE_STATE_DIR": str(directory / "state"),
        "CAMERA_SERVICE_STORAGE_RECORDINGS_DIR": str(directory / "recordings"),
        "CAMERA_SERVICE_STORAGE_SNAPSHOTS_DIR": str(directory / "snapshots"),
        "CAMERA_SERVICE_AUTH_API_KEYS_FILE": str(directory / "api-keys.json"),
        "CAMERA_SERVICE_AUTH_JWT_SECRET": JWT_SECRET,
        "CAMERA_SERVICE_CAMERA_DEVICE_DIR": str(directory / "dev"),
        "CAMERA_SERVICE_CAMERA_SYSFS_DIR": str(directory / "sys"),
        "CAMERA_SERVICE_CAMERAS": TEST_CAMERA,
        "CAMERA_SERVICE_MEDIAMTX_MODE": "embedded",
        "CAMERA_SERVICE_MEDIAMTX_LISTEN_HOST": "127.0.0.1",
    }
    for name in ("API", "RTSP", "HLS", "WEBRTC", "WEBRTC_ICE_UDP", "RTP", "RTCP", "AUTH_HOOK"):
        env[f"CAMERA_SERVICE_MEDIAMTX_{name}_PORT"] = "0"
    env.update(extra or {})
    return env


class Service:
    """One daemon; `start()` again after `kill()` restarts it with the same settings."""

    def __init__(self, directory: Path, *, port: int = 0, extra_env: Optional[Dict[str, str]] = None) -> None:
        self.directory = directory
        self.env = service_env(directory, port, extra_env)
        self.process: Optional[subprocess.Popen[str]] = None
        self.logs: List[Dict[str, Any]] = []
        self._lock = threading.Condition()
        self.ws_url = ""
        self.port = 0
        self.recordings = directory / "recordings"
        self.snapshots = directory / "snapshots"

    def start(self, timeout: float = 20.0) -> "Service":
        with self._lock:
            self.logs = []
        self.process = subprocess.Popen(
            [NODE, str(BIN)], env=self.env, cwd=str(self.directory), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._drain, args=(self.process,), daemon=True).start()
        listening = self.wait_log(lambda e: e.get("msg") == "listening", timeout, "the 'listening' line")
        self.ws_url = str(listening["ws_url"])
        self.port = int(listening["api_port"])
        return self

    def _drain(self, process: "subprocess.Popen[str]") -> None:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"msg": line.rstrip()}
            with self._lock:
                if len(self.logs) < 20000:  # bounded
                    self.logs.append(entry)
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def wait_log(self, match: Callable[[Dict[str, Any]], bool], timeout: float, what: str) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for entry in self.logs:
                    if match(entry):
                        return entry
                if self.process is not None and self.process.poll() is not None:
                    tail = "\n".join(json.dumps(e) for e in self.logs[-20:])
                    raise RuntimeError(f"the service exited ({self.process.returncode}) before {what}:\n{tail}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {what} within {timeout} s")
                self._lock.wait(min(left, 0.2))

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, role: str = "operator", ttl: Optional[str] = None) -> str:
        args = [NODE, str(BIN), "token", "--role", role] + (["--ttl", ttl] if ttl else [])
        out = subprocess.run(args, env=self.env, cwd=str(self.directory), capture_output=True,
                             text=True, timeout=30, check=True)
        return out.stdout.strip().splitlines()[-1].strip()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
