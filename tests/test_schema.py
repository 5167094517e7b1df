"""The config's schema (imbalance/schema.py and the targets' signatures) against the shipped YAML
files, and the kinds of number it reads from annotations."""

from dataclasses import fields
from pathlib import Path
from typing import Literal, Optional, Union

import pytest
from conftest import compose_train
from omegaconf import OmegaConf

import imbalance
from imbalance.checks import check_config, number_kind, numbers, plain_nodes
from imbalance.errors import ConfigError

CONF = Path(imbalance.__file__).parent.parent / "conf"


def options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF / group).glob("*.yaml"))


SHIPPED = [
    *(f"experiment={name}" for name in options("experiment")),
    *(f"reg={name}" for name in options("reg")),
    *(f"remedy={name}" for name in options("remedy")),
]


def test_the_shipped_plain_nodes_have_exactly_the_schemas_keys():
    given = {path: set() for path in plain_nodes()}
    for choice in SHIPPED:
        cfg = compose_train(choice, "data.minority=[a]")
        for path, keys in given.items():
            node = OmegaConf.select(cfg, path) if path else cfg
            if node is not None:  # else an optional node: a remedy without a second stage
                keys |= set(node)
    for path, schema in plain_nodes().items():
        # No key in the files that the schema lacks (checks.unread_keys would refuse it), none
        # in the schema that no file gives.
        assert given[path] == {f.name for f in fields(schema)}, path


@pytest.mark.parametrize("choice", SHIPPED)
def test_every_shipped_number_is_of_its_kind_and_within_its_range(choice):
    cfg = compose_train(choice, "data.minority=[a]")
    for number in numbers(cfg):
        value = OmegaConf.select(cfg, number.key)
        if value is None:
            assert number.optional, number.key
            continue
        assert isinstance(value, number.types) and not isinstance(value, bool), number.key
        assert number.allowed is None or number.allowed[1](value), number.key


def test_the_kind_of_a_number_is_read_from_its_annotation():
    assert number_kind(int) == (int, False, ())
    assert number_kind(float) == (int | float, False, ())  # an integer is a number too
    assert number_kind(int | None) == (int, True, ())
    assert number_kind(Optional[Union[int, float]]) == (int | float, True, ())  # noqa: UP007, UP045
    assert number_kind(int | Literal["auto"]) == (int, False, ("auto",))  # data.batch_size
    assert number_kind(str) is None and number_kind(bool) is None
    assert number_kind(int | str) is None  # e.g. trainer.devices: not a number only
    assert number_kind(Literal[16, 32, "bf16-mixed"]) is None  # trainer.precision: words only


@pytest.mark.parametrize(
    "overrides, message",
    [
        # A target's setting, typed by its class's signature (ImbalancedDataModule's batch_size)
        (["data.batch_size=ten"], "^data.batch_size=ten is not an integer or auto$"),
        (["data.batch_size=null"], "^data.batch_size has no value: give it"),
        # A plain node's, typed by imbalance/schema.py
        (["remedy=ldam_drw", "remedy.head.scale=big"], "^remedy.head.scale=big is not a number$"),
        (["remedy=crt", "remedy.stage2.epochs=2.5"], "^remedy.stage2.epochs=2.5 is not an int"),
        (["~data.seed"], "^data.seed has no value: give it"),  # the run reads it itself
        # a class that moved since a config named it
        (
            ["model._target_=imbalance.model.CNN"],
            r"cannot be imported \(.*\): it is "
            r"imbalance.models.cnn.CNN now$",
        ),
    ],
)
def test_a_number_of_the_wrong_kind_is_refused_by_its_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        check_config(compose_train(*overrides))
