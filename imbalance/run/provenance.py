"""What a run ran on, for its results.json: library versions, the device, the code's git commit
and the command line."""

import platform
import shlex
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

import imbalance

# The folder that holds the package's code: a repository's root for an editable install.
SOURCE = Path(imbalance.__file__).resolve().parent.parent
PACKAGES = ["torch", "torchvision", "lightning", "torchmetrics", "hydra-core", "omegaconf", "numpy"]


def versions() -> dict[str, str | None]:
    """Installed versions of Python, this package and the libraries its numbers depend on."""

    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "imbalance": installed("imbalance"),
        **{name: installed(name) for name in PACKAGES},
    }


def device(root: torch.device, count: int) -> dict:
    """The kind, model and count of the devices a run trained on; for the CPU, its model and
    torch's thread count."""
    if root.type == "cuda":
        name = torch.cuda.get_device_name(root)
    else:
        name = _cpu_model()
    described = {"type": root.type, "name": name, "count": count}
    if root.type == "cpu":
        described["torch_threads"] = torch.get_num_threads()
    return described


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def git_state(folder: Path = SOURCE) -> dict | None:
    """The commit of the repository this package's code runs from, and whether its files differ
    from the commit (`dirty`: changed or untracked files that git does not ignore); None for an
    installed package (no repository around it) or without git."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != folder:
            return None  # a package installed into a virtual environment inside some repository
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.CalledProcessError):
        return None


def provenance(root: torch.device, device_count: int) -> dict:
    """results.json's `provenance`: versions, device, git, the command line and the host."""
    return {
        "versions": versions(),
        "device": device(root, device_count),
        "git": git_state(),
        "command": shlex.join(sys.orig_argv),
        "host": platform.node(),
    }
