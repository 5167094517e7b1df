"""imbalance/run/cluster.py on canned `sinfo` output, and the SLURM launcher's check through the
command line with stand-ins for `sinfo` and `sbatch` (tests/test_slurm.py runs a real cluster)."""

import os
import stat
from pathlib import Path

import pytest

from helpers import run_main
from imbalance.run.cluster import (
    Cluster,
    Node,
    Request,
    gpu_count,
    parse_sinfo,
    read_cluster,
    refusal,
)

# sinfo --all --Node --noheader --format=%N|%P|%c|%m|%G on a small cluster: cpu is the default
# partition; the GPU nodes are in gpu, and one of them in debug too.
SINFO = """\
c1|cpu*|2|24105|(null)
c2|cpu*|4|7900|(null)
g1|gpu|32|257000|gpu:a100:4(S:0-1)
g2|gpu|16|128000|gpu:v100:2,gpu:t4:1,shard:8
g2|debug|16|128000|gpu:v100:2,gpu:t4:1,shard:8
"""


def launcher(**settings) -> dict:
    """hydra.launcher's settings as conf/hydra/launcher/slurm.yaml sets them, and `settings`."""
    defaults = {"partition": None, "nodes": 1, "tasks_per_node": 1, "gpus_per_node": None}
    return {**defaults, "cpus_per_task": 2, "mem_gb": 4, **settings}


def test_sinfo_output_gives_every_partition_its_nodes_and_the_default():
    cluster = parse_sinfo(SINFO)
    assert cluster.default == "cpu"
    assert cluster.partitions["cpu"] == (Node("c1", 2, 24105, 0), Node("c2", 4, 7900, 0))
    assert [node.gpus for node in cluster.partitions["gpu"]] == [4, 3]
    assert cluster.partitions["debug"] == (Node("g2", 16, 128000, 3),)
    # A partition without a default, sinfo's "at least" and unknown values.
    cluster = parse_sinfo("n1|p|8+|N/A|gpu\n\n")
    assert cluster == Cluster({"p": (Node("n1", 8, 0, 1),)}, None)


@pytest.mark.parametrize(
    "value, count",
    [(None, 0), (2, 2), ("(null)", 0), ("gpu", 1), ("gpu:a100:4(S:0,1)", 4), ("shard:8,gpu:1", 1)],
)
def test_gpu_counts_of_settings_and_generic_resources(value, count):
    assert gpu_count(value) == count


def test_the_request_of_the_launcher_settings():
    request = Request.of(launcher())
    assert (request.cpus, request.gpus, request.mem_gb, request.nodes) == (2, 0, 4, 1)
    assert request.partition is None
    # Tasks multiply CPUs and GPUs per task; unset settings ask for SLURM's defaults.
    request = Request.of(launcher(cpus_per_task=None, tasks_per_node=4, gpus_per_task=1))
    assert (request.cpus, request.gpus, request.gpus_from) == (4, 4, "gpus_per_task")
    assert Request.of(launcher(gres="gpu:a100:2")).gpus_from == "gres"
    assert Request.of(launcher(mem_gb=None)).mem_gb == 0


@pytest.mark.parametrize(
    "settings",
    [{}, {"cpus_per_task": 4}, {"partition": "gpu", "gpus_per_node": 4, "cpus_per_task": 32}]
    + [{"partition": "cpu,gpu", "cpus_per_task": 16}, {"partition": "gpu", "nodes": 2}],
)
def test_a_request_some_node_can_run_passes(settings):
    assert refusal(Request.of(launcher(**settings)), parse_sinfo(SINFO)) is None


@pytest.mark.parametrize(
    "settings, message",
    [
        # The launcher's defaults as they were, on a node of 2 CPUs without a GPU.
        (
            {"gpus_per_node": 1, "cpus_per_task": 8, "mem_gb": 16},
            "no node of SLURM partition 'cpu' can ever run these jobs, which would wait forever: "
            "each asks a node for 8 CPUs (cpus_per_task=8) and 1 GPU (gpus_per_node=1), and its "
            "nodes have at most 4 CPUs and no GPU; set hydra.launcher.cpus_per_task=4 "
            "hydra.launcher.gpus_per_node=null or hydra.launcher.partition=gpu",
        ),
        (
            {"partition": "gpu", "tasks_per_node": 4, "cpus_per_task": 16, "gpus_per_task": 2},
            "no node of SLURM partition 'gpu' can ever run these jobs, which would wait forever: "
            "each asks a node for 64 CPUs (cpus_per_task=16 x tasks_per_node=4) and 8 GPUs "
            "(gpus_per_task=2 x tasks_per_node=4), and its nodes have at most 32 CPUs and 4 "
            "GPUs; set hydra.launcher.cpus_per_task=8 hydra.launcher.gpus_per_task=1",
        ),
        (
            {"mem_gb": 512, "partition": "gpu"},
            "its nodes have at most 251.0 GB; set hydra.launcher.mem_gb=250",
        ),
        # Each alone is there, not on one node.
        (
            {"cpus_per_task": 4, "mem_gb": 16},
            "no node of SLURM partition 'cpu' has 4 CPUs and 16 GB of memory at once, which each "
            "of these jobs asks of a node, so they would wait forever: ask for less "
            "(hydra.launcher.cpus_per_task, gpus_per_node, mem_gb) or hydra.launcher.partition=gpu",
        ),
        (
            {"nodes": 2, "partition": "debug", "gres": "gpu:2"},
            "each of these jobs asks for 2 nodes with 2 CPUs, 2 GPUs and 4 GB of memory, and "
            "SLURM partition 'debug' has 1 such node, so they would wait forever: set "
            "hydra.launcher.nodes=1 or hydra.launcher.partition=gpu",
        ),
        (
            {"partition": "gpus"},
            "the SLURM cluster has no partition 'gpus': choose one of cpu, gpu, debug with "
            "hydra.launcher.partition=NAME",
        ),
    ],
)
def test_a_request_no_node_can_run_gets_one_line_that_says_what_to_change(settings, message):
    assert message in refusal(Request.of(launcher(**settings)), parse_sinfo(SINFO))


def test_without_a_default_partition_the_line_asks_for_one():
    cluster = parse_sinfo(SINFO.replace("cpu*", "cpu"))
    assert refusal(Request.of(launcher()), cluster) == (
        "the SLURM cluster has no default partition: choose one of cpu, gpu, debug with "
        "hydra.launcher.partition=NAME"
    )


def command(folder: Path, name: str, script: str) -> None:
    """An executable `folder/name` running the shell `script`: a stand-in for a SLURM command."""
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_without_a_working_sinfo_nothing_is_known(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert read_cluster() is None  # no sinfo
    command(tmp_path, "sinfo", "echo 'sinfo: error: cannot reach slurmctld' >&2; exit 1")
    assert read_cluster() is None
    command(tmp_path, "sinfo", "echo 'a line of some other format'")
    assert read_cluster() is None
    command(tmp_path, "sinfo", f"printf '%s' '{SINFO}'")
    assert read_cluster() == parse_sinfo(SINFO)


@pytest.mark.parametrize(
    "override, sbatch, message",
    [
        (
            "hydra.launcher.cpus_per_task=8",
            "touch submitted",
            "error: no node of SLURM partition 'cpu' can ever run these jobs, which would wait "
            "forever: each asks a node for 8 CPUs (cpus_per_task=8), and its nodes have at most 4 "
            "CPUs; set hydra.launcher.cpus_per_task=4 or hydra.launcher.partition=gpu",
        ),
        (
            "hydra.launcher.account=nobody",
            "touch submitted; echo 'sbatch: error: Batch job submission failed: Invalid account"
            " or account/partition combination specified' >&2; exit 1",
            "error: sbatch refused the jobs: Invalid account or account/partition combination "
            "specified; check the hydra.launcher settings against the cluster (sinfo)",
        ),
    ],
)
def test_the_slurm_launcher_ends_in_one_line_where_slurm_cannot_run_the_jobs(
    tmp_path, override, sbatch, message
):
    bin = tmp_path / "bin"
    bin.mkdir()
    command(bin, "sinfo", f"printf '%s' '{SINFO}'")
    command(bin, "sbatch", sbatch)
    command(bin, "srun", "exit 0")  # submitit refuses to submit where it finds no srun
    sweep = tmp_path / "sweep"
    result = run_main(
        "-m", "hydra/launcher=slurm", "seed=0,1", override, f"hydra.sweep.dir={sweep}",
        cwd=tmp_path, env={"PATH": f"{bin}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == message
    assert "Traceback" not in result.stderr
    # Submitted only what the nodes can run.
    assert (tmp_path / "submitted").exists() == ("refused" in message)
