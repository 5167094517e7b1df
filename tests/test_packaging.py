"""What the wheel ships: every package of the source tree (pyproject.toml lists them by hand)."""

import tomllib

from helpers import REPO


def test_every_package_of_the_source_tree_is_in_the_wheel():
    setup = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for root in ("imbalance", "hydra_plugins")
        for init in (REPO / root).rglob("__init__.py")
    }
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
    assert setup["package-dir"]["imbalance.conf"] == "conf" and "imbalance.conf" in listed
