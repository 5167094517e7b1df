"""data.batch_size=auto and optim.base_batch: a folder's batch follows its training images, and
the rate follows the batch."""

import json

import pytest

from helpers import TINY, make_image_tree, run_main
from imbalance.build import batch_rate, build
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


def test_the_rate_follows_the_batch_in_proportion():
    assert batch_rate(0.01, 10, 64) == pytest.approx(0.064)
    assert batch_rate(0.1, 128, 256) == pytest.approx(0.2)
    assert batch_rate(0.1, 128, 128) == 0.1  # at its own batch, the rate as given
    assert batch_rate(0.01, None, 64) == 0.01  # null: the rate at any batch


def test_the_rate_of_a_larger_batch_reaches_what_follows_the_rate(config):
    cfg = config(*TINY, "data.batch_size=16", "remedy=crt", "remedy.stage2.epochs=1")
    data, module = build(cfg)
    assert data.batch_size == 16
    assert module.lr == pytest.approx(0.016)  # 0.01 at a batch of 10
    assert module.remedy.stage.lr == pytest.approx(0.016)  # crt's stage2.lr: ${optim.lr}
    assert cfg.optim.lr == 0.01  # the config is left as it was given


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
    assert results["effective"] == {"data.batch_size": 10, "optim.lr": 0.01}
    assert "batch 10, rate 0.01 (data.batch_size=auto)" in result.stdout


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
