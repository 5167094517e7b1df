"""data.batch_size=auto and optim.base_batch: a folder's batch follows its training images, and
the rate follows the batch."""

import json

import pytest

from helpers import TINY, make_image_tree, run_main
from imbalance.build import at_batch, batch_rule, build
from imbalance.checks import check_config
from imbalance.data import batch_size
from imbalance.data.batch_size import auto_batch_size
from imbalance.errors import ConfigError
from imbalance.run.resume import comparable


@pytest.mark.parametrize(
    "images, batch",
    [
        (0, 10), (220, 10), (3199, 10),  # fewer than 200 steps of 16: the smallest batch
        (3200, 16), (6399, 16), (6400, 32), (12406, 32),  # 12,406 // 200 = 62: 32
        (12800, 64), (17557, 64), (25599, 64),  # the practitioner's folder: 87 -> 64
        (25600, 128), (50000, 128), (10**7, 128),  # the largest
    ],
)  # fmt: skip
def test_the_auto_batch_is_the_largest_power_of_two_leaving_200_steps(images, batch):
    assert auto_batch_size(images) == batch


def test_the_rates_follow_the_batch_in_proportion(config):
    cfg = config("remedy=crt", "remedy.stage2.lr=0.001")
    at_64 = at_batch(cfg, 64)  # 0.01 and 0.001 at a batch of 10
    assert (at_64.optim.lr, at_64.remedy.stage2.lr) == pytest.approx((0.064, 0.0064))
    assert (cfg.optim.lr, cfg.remedy.stage2.lr) == (0.01, 0.001)  # the config as given
    assert at_batch(cfg, 10) is cfg  # at its own batch, the rates as given
    anywhere = config("remedy=crt", "optim.base_batch=null")
    assert at_batch(anywhere, 64).optim.lr == 0.01  # null: the rate at any batch
    recipe = config("experiment=cifar10_lt")
    assert at_batch(recipe, 128).optim.lr == 0.1  # the recipe's 0.1 at its 128
    assert at_batch(recipe, 256).optim.lr == pytest.approx(0.2)


def test_a_rate_that_follows_the_rate_follows_it_at_the_runs_batch(config):
    cfg = config(*TINY, "data.batch_size=16", "remedy=crt", "remedy.stage2.epochs=1")
    data, module = build(cfg)
    assert data.batch_size == 16
    assert module.lr == pytest.approx(0.016)  # 0.01 at a batch of 10
    assert module.remedy.stage.lr == pytest.approx(0.016)  # crt's stage2.lr: ${optim.lr}
    assert cfg.optim.lr == 0.01  # the config is left as it was given
    data, module = build(cfg, processes=2)  # 16 in each of 2 processes: 32 a step
    assert module.lr == pytest.approx(0.032)


def test_an_auto_batch_is_set_from_the_training_images(config, monkeypatch):
    monkeypatch.setattr(batch_size, "STEPS", 2)  # 60 training images // 2 = 30 -> 16
    cfg = config("data.per_class=8", "data.image_size=16", "data.batch_size=auto")
    data, module = build(cfg)
    assert len(data.train_set) == 60  # the digits' 10 classes, 8 a class less 2 tested
    assert data.batch_size == 16
    assert module.lr == pytest.approx(0.016)


def test_a_folder_run_records_the_batch_and_rate_it_trained_at(tmp_path):
    root = make_image_tree(tmp_path / "pets", {"cat": 12, "dog": 12})
    result = run_main(
        "data=folder", f"data.root={root}", "data.minority=[cat]", "data.per_class=12",
        "data.image_size=16", "trainer.max_epochs=1", "hydra.run.dir=run", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["config"]["data"]["batch_size"] == "auto"  # as given
    assert results["effective"] == {"data.batch_size": 10, "processes": 1, "optim.lr": 0.01}
    assert "batch 10, rate 0.01 (data.batch_size=auto)" in result.stdout


def test_the_log_says_which_rule_made_the_batch_and_the_rate(config):
    effective = {"data.batch_size": 64, "processes": 1, "optim.lr": 0.064}
    assert batch_rule(config("data.batch_size=64"), effective) == (
        "batch 64, rate 0.064 (optim.lr=0.01 at optim.base_batch=10)"
    )
    effective = {"data.batch_size": 10, "processes": 2, "optim.lr": 0.02}
    assert batch_rule(config(), effective) == (
        "batch 10 in each of 2 processes, rate 0.02 (optim.lr=0.01 at optim.base_batch=10)"
    )
    effective = {"data.batch_size": 10, "processes": 1, "optim.lr": 0.01}
    assert batch_rule(config(), effective) == "batch 10, rate 0.01"


def test_a_batch_that_is_not_a_number_or_auto_is_refused(config):
    with pytest.raises(ConfigError, match="^data.batch_size=ten is not an integer or auto$"):
        check_config(config("data.batch_size=ten"))
    with pytest.raises(ConfigError, match="^optim.base_batch=0 must be at least 1, or null$"):
        check_config(config("optim.base_batch=0"))


def test_a_rate_given_at_the_runs_own_batch_is_the_run_from_before_base_batch(config):
    from omegaconf import OmegaConf

    today = OmegaConf.to_container(config(), resolve=True)
    before = json.loads(json.dumps(today))
    del before["optim"]["base_batch"]  # a run from before optim.base_batch, at batch 10
    assert comparable(before) == comparable(today)
    larger = today | {"data": today["data"] | {"batch_size": 64}}
    before_larger = before | {"data": before["data"] | {"batch_size": 64}}
    assert comparable(before_larger) != comparable(larger)  # 0.01 then, 0.064 now
    anywhere = larger | {"optim": larger["optim"] | {"base_batch": None}}
    assert comparable(before_larger) == comparable(anywhere)  # null: 0.01 at any batch
    on_two = today | {"trainer": today["trainer"] | {"devices": 2}}
    before_on_two = before | {"trainer": before["trainer"] | {"devices": 2}}
    assert comparable(before_on_two) != comparable(on_two)  # 0.01 then, at 20 a step 0.02 now
