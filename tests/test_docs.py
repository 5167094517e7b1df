"""The README and the docs against the code: every command they show names a module, a make
target, a config group, an option and keys that exist; the configuration reference lists every
key of every config file with its default. Nothing here trains."""

import json
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from conftest import compose_train
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from omegaconf import open_dict

from helpers import REPO, run_main
from imbalance.checks import check_config
from imbalance.export import arguments as export_arguments
from imbalance.predict import arguments as predict_arguments
from imbalance.report.__main__ import arguments as report_arguments

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
MAKE_TARGETS = set(re.findall(r"(?m)^([\w-]+):", (REPO / "Makefile").read_text()))


def commands(page: Path) -> list[str]:
    """The lines of the page's ```bash blocks, comments and blank lines left out."""
    blocks = re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_readme_is_a_front_door():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert "source .venv/bin/activate" in readme  # where python -m imbalance... runs
    headings = re.findall(r"(?m)^## (.+)$", readme)
    expected = ["Quick start", "What comes out", "How it works", "Common tasks", "Extending it"]
    assert headings == [*expected, "Read more"]
    for link in re.findall(r"\]\(([^)#]+)", readme):
        assert link.startswith("http") or (REPO / link).exists(), link
    assert len(commands(REPO / "README.md")) >= 15


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> dict[str, str]:
    """What the docs' placeholders stand for: an existing folder, with a results.json in it."""
    folder = tmp_path_factory.mktemp("placeholder")
    (folder / "results.json").write_text(json.dumps({"splits": {}}))
    return {"folder": str(folder)}


def fill(line: str, places: dict[str, str]) -> list[str]:
    """The command's words as the shell gives them, placeholders (`<dir>`) filled in."""
    return shlex.split(re.sub(r"<[^<>]+>", places["folder"], line), comments=True)


DOC_COMMANDS = list({line: (page.name, line) for page in PAGES for line in commands(page)}.values())


@pytest.mark.parametrize("page, line", DOC_COMMANDS, ids=[c[1][:80] for c in DOC_COMMANDS])
def test_every_command_of_the_docs_names_what_exists(page, line, places):
    words = fill(line, places)
    match words:
        case ["make", target, *variables]:
            assert target in MAKE_TARGETS, f"no make target {target}"
            assert all(re.fullmatch(r"[A-Z]+=\S+", v) for v in variables), variables
        case ["source", ".venv/bin/activate"]:
            assert re.search(r"(?m)^VENV := \.venv$", (REPO / "Makefile").read_text())
        case ["tensorboard", "--logdir", _]:
            assert (Path(sys.executable).parent / "tensorboard").exists()
        case ["python", "-m", "imbalance.report", *args]:
            report_arguments().parse_args(args)  # exits on an unknown option
        case ["python", "-m", "imbalance.predict", *args]:
            predict_arguments().parse_args(args)
        case ["python", "-m", "imbalance.export", *args]:
            export_arguments().parse_args(args)
        case ["python", "-m", "imbalance.train" | "imbalance.tune", *args]:
            check_train_command(args)
        case ["python", "-m", "imbalance.splits", *args]:  # a run's overrides, and --out FILE
            out = args.index("--out") if "--out" in args else len(args)
            check_train_command(args[:out] + args[out + 2 :])
        case _:
            pytest.fail(f"{page}: a command this test cannot check: {line}")


def check_train_command(args: list[str]) -> None:
    """Composes the run of each option of each config group swept (the other axes at their
    first value) and checks its config as a run would, before any image is read: groups,
    options, keys, values. The other values of a swept key are checked as Hydra parses them."""
    printed_only = "--cfg" in args  # prints the composed config: no path need exist
    if printed_only:
        del args[args.index("--cfg") : args.index("--cfg") + 2]
    args = [a for a in args if a not in ("-m", "--multirun", "--help", "--resolve")]
    parsed = OverridesParser.create().parse_overrides(args)
    axes = []
    for override in parsed:
        key = override.get_key_element()
        if isinstance(override.value(), Glob):  # a glob over a config group's options
            options = sorted(path.stem for path in (REPO / "conf" / key).glob("*.yaml"))
            values = [o for o in options if override.value().filter([o])]
        elif override.is_sweep_override():
            values = list(override.sweep_string_iterator())
        else:
            values = [override.get_value_element_as_str()]
        assert values, f"{override.input_line} matches nothing"
        is_group = (REPO / "conf" / key).is_dir()
        axes.append([f"{key}={value}" for value in (values if is_group else values[:1])])
    firsts = [axis[0] for axis in axes]
    jobs = {tuple(firsts)} | {
        (*firsts[:i], value, *firsts[i + 1 :]) for i, axis in enumerate(axes) for value in axis
    }
    for job in jobs:
        cfg = compose_train(*job, hydra=True)
        with open_dict(cfg):
            del cfg["hydra"]
        if not printed_only:
            check_config(cfg, [o for o in job if not o.startswith("hydra")])


def test_help_says_what_a_run_is_and_lists_the_groups(tmp_path):
    result = run_main("--help", cwd=tmp_path)
    assert result.returncode == 0
    text = result.stdout
    assert text.startswith("python -m imbalance.train [-m] [key=value ...]")
    assert "remedy: cb_focal, class_balanced, crt," in text
    assert "reg: full, long_tail, none, norm" in text
    for words in ("-m runs every combination", "results.json", "python -m imbalance.report"):
        assert words in text
    sections = re.findall(r"(?m)^## (.+)$", (REPO / "README.md").read_text())
    assert f"README.md: {', '.join(sections)}." in text
    assert not (tmp_path / "outputs").exists()  # help runs nothing


# The reference: one section per config file, one row per key the file sets.
REFERENCE = REPO / "docs" / "configuration.md"
CONF = REPO / "conf"
UNDOCUMENTED = {CONF / "hydra" / "help" / "imbalance.yaml"}  # the help page's text itself


def documented() -> dict[Path, dict[str, str | None]]:
    """file -> {key: default}: the default as written in backticks, None for words."""
    sections, rows = {}, None
    for line in REFERENCE.read_text().splitlines():
        if line.startswith("### "):
            (path,) = re.findall(r"`(conf/[\w/]+\.yaml)`", line)
            rows = sections.setdefault(REPO / path, {})
        elif rows is not None and (row := re.match(r"\| `([^`]+)` \| (.*?) \| .* \|$", line)):
            key, default = row.groups()
            code = re.fullmatch(r"`(.*)`", default)
            rows[key] = code.group(1) if code else None
    return sections


def leaves(node, prefix: str) -> dict[str, object]:
    if isinstance(node, dict) and node:
        return {
            key: value
            for name, child in node.items()
            for key, value in leaves(child, f"{prefix}{name}.").items()
        }
    return {prefix.rstrip("."): node}


def keys_of(path: Path) -> dict[str, object]:
    """Every leaf key the file sets, as the command line writes it, and its value."""
    text = path.read_text()
    content = yaml.safe_load(text) or {}
    content.pop("defaults", None)
    group = path.parent.relative_to(CONF)
    is_global = path.parent == CONF or text.startswith("# @package _global_")
    prefix = "" if is_global else ".".join(group.parts) + "."
    found = leaves(content, prefix)
    if path == CONF / "train.yaml":
        found = {k: v for k, v in found.items() if not k.startswith("hydra.job_logging.")}
    return found


def written(value) -> str | None:
    """A value as the reference writes it; None where words describe it (a list of layers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        if any(isinstance(item, dict | list) for item in value):
            return None
        return "[" + ", ".join(_item(item) for item in value) + "]"
    return str(value)


def _item(item) -> str:
    """A list's item; a string that YAML would read as something else keeps its quotes."""
    return json.dumps(item) if isinstance(item, str) and yaml.safe_load(item) != item else str(item)


CONFIG_FILES = sorted(set(CONF.rglob("*.yaml")) - UNDOCUMENTED)


def test_the_reference_has_a_section_for_every_config_file():
    assert sorted(documented()) == CONFIG_FILES


@pytest.mark.parametrize("path", CONFIG_FILES, ids=[str(p.relative_to(CONF)) for p in CONFIG_FILES])
def test_the_reference_lists_every_key_with_its_default(path):
    rows, keys = documented()[path], keys_of(path)
    assert sorted(rows) == sorted(keys), "documented keys differ from the file's"
    for key, value in keys.items():
        expected = written(value)
        assert rows[key] == expected, f"{key}: documented {rows[key]!r}, the file has {expected!r}"
