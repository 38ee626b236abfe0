"""The package and the documentation's examples pass `mypy --strict` (Debian's mypy,
which scripts/bootstrap.mjs installs); skipped, saying so, where mypy is absent."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from service import REPO
from test_docs import blocks

SDK = REPO / "sdk-python"


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (apt-get install mypy)")
def test_mypy_strict_on_the_package_and_the_examples(tmp_path: Path) -> None:
    examples = []
    for i, code in enumerate(blocks()):
        path = tmp_path / f"example_{i}.py"
        path.write_text(code, encoding="utf-8")
        examples.append(str(path))
    cache = Path(tempfile.gettempdir()) / "camera-service-sdk-mypy-cache"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache),
         "--config-file", str(SDK / "pyproject.toml"), str(SDK / "camera_service_sdk"), *examples],
        cwd=SDK, env={**os.environ, "MYPYPATH": str(SDK)}, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
