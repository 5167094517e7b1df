"""A run's directory: one writer at a time, nothing changed by a refused command, and output
that cannot be written said in one line."""

import errno
import io
import os
import subprocess
import sys

import pytest
import torch

from helpers import TINY, make_image_tree, run_main
from imbalance.run.resume import CHECKPOINT, stored_run


def snapshot(folder) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def hold_lock(run):
    """A process that holds `run`'s lock, as a run still going does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from imbalance.run.directory import only_writer\n"
         f"with only_writer(Path({str(run)!r})): print('held', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline() == "held\n"
    return holder


def test_a_second_run_into_a_directory_in_use_is_refused_and_writes_nothing(tmp_path):
    run = tmp_path / "run"
    holder = hold_lock(run)
    try:
        result = run_main(*TINY, f"hydra.run.dir={run}", cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {run} is in use by a run still going (it holds {run / '.lock'}): wait for it "
        "to end, or give this run a directory of its own (hydra.run.dir=..., or a sweep's "
        "hydra.sweep.dir=...)"
    ]
    assert not (run / ".hydra").exists() and not (run / "results.json").exists()
    assert (run / "train.log").read_text() == ""


def test_a_killed_run_leaves_no_lock_behind(tmp_path):
    run = tmp_path / "run"
    holder = hold_lock(run)
    holder.kill()
    holder.wait()
    result = run_main(*TINY, f"hydra.run.dir={run}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_refused_rerun_changes_nothing_in_the_directory(tmp_path):
    run = tmp_path / "run"
    first = run_main(*TINY, f"hydra.run.dir={run}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    before = snapshot(run)
    assert ".hydra/config.yaml" in before and ".hydra/overrides.yaml" in before
    refused = run_main(*TINY, "optim.lr=0.5", f"hydra.run.dir={run}", cwd=tmp_path)
    assert refused.returncode == 2
    assert "holds a finished run of another config (optim.lr differ)" in refused.stderr
    assert snapshot(run) == before


@pytest.mark.parametrize("sweep", [False, True], ids=["run", "sweep"])
def test_a_directory_that_cannot_be_made_is_one_line(tmp_path, sweep):
    where = "hydra.sweep.dir=/dev/null/x" if sweep else "hydra.run.dir=/dev/null/x"
    result = run_main(*(["-m"] if sweep else []), *TINY, where, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: cannot write /dev/null/x: not a directory; a part of the path is a file, not a "
        "folder: choose another path (hydra.run.dir=..., or a sweep's hydra.sweep.dir=...)"
    ]


class FullDisk(io.FileIO):
    """A file on a disk that fills up: writes past `room` bytes fail as the kernel fails them."""

    room = 4096

    def write(self, data):
        if self.tell() + len(memoryview(data).cast("B")) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def test_a_full_disk_is_one_line_and_the_last_checkpoint_stays_whole(tmp_path, monkeypatch):
    fdopen, checkpoints = os.fdopen, []

    def open_on_a_full_disk_after_one_checkpoint(descriptor, mode="r", *args, **kwargs):
        path = os.readlink(f"/proc/self/fd/{descriptor}")
        if ".last.ckpt." in path:  # a checkpoint's temporary file
            checkpoints.append(path)
            if len(checkpoints) > 1:
                return FullDisk(descriptor, "wb")
        return fdopen(descriptor, mode, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", open_on_a_full_disk_after_one_checkpoint)
    run = tmp_path / "run"
    result = run_main(*TINY, "checkpoint_every_s=0", f"hydra.run.dir={run}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot write {run / CHECKPOINT}: no space left on device; free space on that "
        "disk, or write elsewhere (hydra.run.dir=..., or a sweep's hydra.sweep.dir=...)"
    )
    assert stored_run(run / CHECKPOINT)[1] == 1, "epoch 1's checkpoint, whole"
    assert torch.load(run / CHECKPOINT, weights_only=True)["epoch"] == 0
    assert not (run / "results.json").exists()


def test_an_image_cache_on_a_read_only_file_system_names_data_cache_dir(tmp_path, monkeypatch):
    import errno

    from imbalance.data import image_cache

    def read_only(entry, image):
        raise OSError(errno.EROFS, "Read-only file system", str(entry))

    monkeypatch.setattr(image_cache, "write_entry", read_only)
    root = make_image_tree(tmp_path / "images", {"a": 4, "b": 4})
    cache = tmp_path / "cache"
    result = run_main(*TINY, "data=folder", f"data.root={root}", "data.minority=[b]",
                      "data.per_class=2", f"data.cache_dir={cache}", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot write {cache}/")
    assert line.endswith(
        ": read-only file system; the file system is read-only: write elsewhere "
        "(data.cache_dir=...)"
    )
