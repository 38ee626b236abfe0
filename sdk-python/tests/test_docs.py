"""Every python block of docs/clients/python.md runs, as a program, against the started
service: the examples cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from service import REPO, Service

DOC = REPO / "docs" / "clients" / "python.md"


def blocks() -> List[str]:
    return re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.S | re.M)


def test_the_doc_has_examples() -> None:
    assert len(blocks()) >= 5


@pytest.mark.parametrize("index", range(len(blocks())))
def test_example_runs(index: int, service: Service, admin_token: str, tmp_path: Path) -> None:
    code = blocks()[index]
    script = tmp_path / f"example_{index}.py"
    script.write_text(code, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "sdk-python"),
        "CAMERA_URL": service.ws_url,
        "CAMERA_TOKEN": admin_token,
    }
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"example {index} failed:\n{code}\n--- stderr:\n{done.stderr}"
    assert done.stdout.strip(), f"example {index} printed nothing"
