"""The package's imports follow the data's flow (README, "How it works"): each folder imports
only what comes before it, nothing imports an entry point's helpers, and nothing in the package
imports the Hydra plugins, which import the package."""

import ast
from pathlib import Path

import imbalance

PACKAGE = Path(imbalance.__file__).parent

# What each part of the package must not import: what comes after it in the flow.
AFTER = {
    "imbalance.data": ["imbalance.models", "imbalance.remedies", "imbalance.module",
                       "imbalance.build", "imbalance.report"],
    "imbalance.models": ["imbalance.data", "imbalance.remedies", "imbalance.module",
                         "imbalance.build", "imbalance.report"],
    "imbalance.remedies": ["imbalance.data", "imbalance.models", "imbalance.module",
                           "imbalance.build", "imbalance.report"],
    "imbalance.module": ["imbalance.build", "imbalance.report"],
    "imbalance.run": ["imbalance.build", "imbalance.report", "imbalance.module"],
    "imbalance.report": ["imbalance.module", "imbalance.build", "imbalance.data",
                         "imbalance.models", "imbalance.remedies"],
}  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_entry_point(path: Path) -> bool:
    return path.name == "__main__.py" or 'if __name__ == "__main__":' in path.read_text()


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """Every import in `path`, at any depth: (module, the names taken from it)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_imports_follow_the_flow_and_never_reach_into_an_entry_point():
    files = sorted(PACKAGE.rglob("*.py"))
    entry_points = {module_name(path) for path in files if is_entry_point(path)}
    assert {"imbalance.train", "imbalance.report.__main__"} <= entry_points
    wrong = []
    for path in files:
        importer = module_name(path)
        for imported, names in imports(path):
            # `from imbalance import train` names the module in `names`
            targets = [f"{imported}.{n}" for n in names] if imported == "imbalance" else [imported]
            for target in targets:
                if under(target, "hydra_plugins"):
                    wrong.append(f"{importer} imports {target}, a Hydra plugin")
                helpers = [n for n in names if n != "main"] if imported != "imbalance" else []
                if target in entry_points and (importer not in entry_points or helpers):
                    wrong.append(f"{importer} imports {', '.join(names)} from entry point {target}")
                for part, later in AFTER.items():
                    if under(importer, part) and any(under(target, x) for x in later):
                        wrong.append(f"{importer} imports {target}, which comes after it")
    assert wrong == []
