"""Whether a SLURM cluster's nodes can ever run the jobs a sweep asks for, before they are
submitted.

SLURM accepts a job that asks a node for more CPUs than any node of its partition has (unless the
cluster enforces partition limits), and the job waits forever. The SLURM launcher
(hydra_plugins/imbalance_plugins) reads the nodes with `sinfo` (`read_cluster`), what each job
asks of a node from its settings (`Request.of`), and stops with `refusal`'s one line when no node
of the partition has it. Only what no node could ever run is refused: GPU types, node features,
partition and account limits are left to SLURM, which judges them itself.
"""

import re
import shutil
import subprocess
from dataclasses import dataclass

# One line per node and partition: node, partition (`*` marks the default), CPUs, memory in MB,
# generic resources (`gpu:a100:4(S:0-1)`, `(null)`).
SINFO = ["sinfo", "--all", "--Node", "--noheader", "--format=%N|%P|%c|%m|%G"]


@dataclass(frozen=True)
class Node:
    """What one node has, as SLURM counts it."""

    name: str
    cpus: int
    memory_mb: int
    gpus: int


@dataclass(frozen=True)
class Cluster:
    """The nodes of each partition, and the partition jobs go to when they name none."""

    partitions: dict[str, tuple[Node, ...]]
    default: str | None


@dataclass(frozen=True)
class Request:
    """What each job of a sweep asks of each of its nodes, from the launcher's settings
    (hydra.launcher.<name>). `gpus_from` is the setting that asks for GPUs, `gpus_setting`
    its value."""

    cpus_per_task: int
    tasks_per_node: int
    gpus: int
    gpus_from: str
    gpus_setting: object
    mem_gb: float
    nodes: int
    partition: str | None

    @property
    def cpus(self) -> int:
        return self.cpus_per_task * self.tasks_per_node

    @classmethod
    def of(cls, params: dict) -> "Request":
        """The request of hydra-submitit-launcher's settings; unset ones ask for SLURM's
        defaults (1 CPU a task, no GPU, no memory)."""
        tasks = params.get("tasks_per_node") or 1
        gpus = {
            "gpus_per_node": gpu_count(params.get("gpus_per_node")),
            "gpus_per_task": gpu_count(params.get("gpus_per_task")) * tasks,
            "gres": gpu_count(params.get("gres")),
        }
        gpus_from = max(gpus, key=gpus.get)
        return cls(
            cpus_per_task=params.get("cpus_per_task") or 1,
            tasks_per_node=tasks,
            gpus=gpus[gpus_from],
            gpus_from=gpus_from,
            gpus_setting=params.get(gpus_from),
            mem_gb=params.get("mem_gb") or 0,
            nodes=params.get("nodes") or 1,
            partition=params.get("partition"),
        )


def gpu_count(value: int | str | None) -> int:
    """The GPUs in a count, or in a list of generic resources (`gpu:a100:2(S:0-1),shard:8`:
    its gpu entries, 1 where no count is given)."""
    if value is None or isinstance(value, int):
        return value or 0
    total = 0
    for entry in filter(None, re.sub(r"\([^)]*\)", "", value).split(",")):  # no `(S:0-1)`
        name, *rest = entry.split(":")
        if name == "gpu":
            total += int(rest[-1]) if rest and rest[-1].isdigit() else 1
    return total


def parse_sinfo(text: str) -> Cluster:
    """The cluster in `sinfo`'s output in the SINFO format."""
    partitions: dict[str, list[Node]] = {}
    default = None
    for line in filter(str.strip, text.splitlines()):
        name, partition, cpus, memory, gres = line.strip().split("|")
        if partition.endswith("*"):
            partition = default = partition[:-1]
        node = Node(name, leading_int(cpus), leading_int(memory), gpu_count(gres))
        partitions.setdefault(partition, []).append(node)
    return Cluster({name: tuple(nodes) for name, nodes in partitions.items()}, default)


def leading_int(field: str) -> int:
    """8 of `8`, `8+` (sinfo's "at least"); 0 of `N/A`."""
    digits = re.match(r"\d*", field).group()
    return int(digits) if digits else 0


def read_cluster() -> Cluster | None:
    """The cluster that `sinfo` describes, or None where there is no `sinfo` or it fails."""
    if shutil.which("sinfo") is None:
        return None
    try:
        done = subprocess.run(SINFO, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    try:
        return parse_sinfo(done.stdout)
    except ValueError:  # a format this code does not know: SLURM judges
        return None


def fits(node: Node, request: Request) -> bool:
    return (
        node.cpus >= request.cpus
        and node.gpus >= request.gpus
        and node.memory_mb >= request.mem_gb * 1024
    )


def refusal(request: Request, cluster: Cluster) -> str | None:
    """One line saying why no node of the request's partition can ever run its jobs, and which
    setting would let them run; None when enough nodes can."""
    if request.partition is None and cluster.default is None:
        return (
            f"the SLURM cluster has no default partition: choose one of "
            f"{', '.join(cluster.partitions)} with hydra.launcher.partition=NAME"
        )
    names = request.partition.split(",") if request.partition else [cluster.default]
    unknown = [name for name in names if name not in cluster.partitions]
    if unknown:
        return (
            f"the SLURM cluster has no partition '{unknown[0]}': choose one of "
            f"{', '.join(cluster.partitions)} with hydra.launcher.partition=NAME"
        )
    nodes = {node.name: node for name in names for node in cluster.partitions[name]}.values()
    fitting = sum(fits(node, request) for node in nodes)
    if fitting >= request.nodes:
        return None
    where = f"SLURM partition '{request.partition or cluster.default}'"
    elsewhere = [
        name
        for name, others in cluster.partitions.items()
        if name not in names and sum(fits(node, request) for node in others) >= request.nodes
    ]
    other = f" or hydra.launcher.partition={elsewhere[0]}" if elsewhere else ""
    asked, most, fixes = [], [], []
    tasks = request.tasks_per_node
    times = f" x tasks_per_node={tasks}" if tasks > 1 else ""
    top_cpus = max(node.cpus for node in nodes)
    if request.cpus > top_cpus:
        asked.append(f"{request.cpus} CPUs (cpus_per_task={request.cpus_per_task}{times})")
        most.append(f"{top_cpus} CPUs")
        fixes.append(f"hydra.launcher.cpus_per_task={max(top_cpus // tasks, 1)}")
    top_gpus = max(node.gpus for node in nodes)
    if request.gpus > top_gpus:
        per_task = request.gpus_from == "gpus_per_task"
        setting = f"{request.gpus_from}={request.gpus_setting}{times if per_task else ''}"
        asked.append(f"{plural(request.gpus, 'GPU')} ({setting})")
        most.append(plural(top_gpus, "GPU") if top_gpus else "no GPU")
        fit = top_gpus // tasks if per_task else top_gpus
        if fit and request.gpus_from == "gres":
            fit = f"gpu:{fit}"
        fixes.append(f"hydra.launcher.{request.gpus_from}={fit or 'null'}")
    top_memory = max(node.memory_mb for node in nodes)
    if request.mem_gb * 1024 > top_memory:
        asked.append(f"{request.mem_gb:g} GB of memory (mem_gb={request.mem_gb:g})")
        most.append(f"{top_memory / 1024:.1f} GB")
        fixes.append(f"hydra.launcher.mem_gb={top_memory // 1024 or 'null'}")
    if asked:
        return (
            f"no node of {where} can ever run these jobs, which would wait forever: each asks a "
            f"node for {join(asked)}, and its nodes have at most {join(most)}; set "
            f"{' '.join(fixes)}{other}"
        )
    shape = [f"{request.cpus} CPUs"]
    if request.gpus:
        shape.append(plural(request.gpus, "GPU"))
    if request.mem_gb:
        shape.append(f"{request.mem_gb:g} GB of memory")
    if fitting == 0:
        return (
            f"no node of {where} has {join(shape)} at once, which each of these jobs asks of a "
            f"node, so they would wait forever: ask for less (hydra.launcher.cpus_per_task, "
            f"{request.gpus_from}, mem_gb){other}"
        )
    return (
        f"each of these jobs asks for {request.nodes} nodes with {join(shape)}, and {where} has "
        f"{plural(fitting, 'such node')}, so they would wait forever: set "
        f"hydra.launcher.nodes={fitting}{other}"
    )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def join(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
