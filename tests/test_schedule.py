"""The learning-rate schedule against its formula, and against torch's StepLR."""

import pytest
import torch

from helpers import run_main
from imbalance.errors import ConfigError
from imbalance.schedule import EpochSchedule, first_lowered_epoch


def rates(epochs: int, **schedule) -> list[float]:
    """The rate of each epoch, 1 to `epochs`, read at the epoch's start as a run reads it."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = EpochSchedule(optimizer, **schedule)
    seen = []
    for _ in range(epochs):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return seen


def test_the_long_tail_recipe_warms_up_then_falls_after_160_and_180():
    seen = rates(200, warmup_epochs=5, milestones=[160, 180], gamma=0.01)
    expected = {1: 0.02, 5: 0.1, 6: 0.1, 160: 0.1, 161: 0.001, 180: 0.001, 181: 0.00001}
    for epoch, rate in expected.items():
        assert seen[epoch - 1] == pytest.approx(rate, rel=1e-12), epoch


def test_a_step_every_few_epochs_is_torchs_step_lr_to_the_last_bit():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    step = torch.optim.lr_scheduler.StepLR(optimizer, 10, 0.1)
    expected = []
    for _ in range(50):  # the paper preset: 50 epochs, the rate divided by 10 every 10
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        step.step()
    assert rates(50, every=10, gamma=0.1) == expected


def test_a_schedule_that_cannot_be_followed_is_one_line():
    with pytest.raises(ConfigError, match="^optim.schedule sets both every and milestones"):
        rates(1, every=10, milestones=[5])
    with pytest.raises(ConfigError, match=r"^optim.schedule.milestones=\[0, 5\] must be a list"):
        rates(1, milestones=[0, 5])
    with pytest.raises(ConfigError, match="^optim.schedule.every=0 must be at least 1"):
        rates(1, every=0)


@pytest.mark.parametrize(
    ("schedule", "epochs", "first"),
    [
        ({"every": 25, "milestones": None}, 50, 26),  # the digits: 0.001 from epoch 26
        ({"every": 25, "milestones": None}, 10, 10),  # a shorter run never lowers it
        ({"every": None, "milestones": [180, 160]}, 200, 161),  # Cao et al.
        ({"every": None, "milestones": None}, 30, 30),  # a constant rate
    ],
)
def test_a_deferred_remedy_starts_where_the_schedule_first_lowers_the_rate(schedule, epochs, first):
    assert first_lowered_epoch(schedule, epochs) == first
    rate = rates(epochs, **{k: v for k, v in schedule.items() if v is not None})
    if first < epochs:
        assert rate[first - 1] < rate[first - 2] == rate[0]


def test_a_schedule_that_does_not_say_when_the_rate_falls_asks_for_the_remedys_epoch():
    cosine = {"_target_": "torch.optim.lr_scheduler.CosineAnnealingLR", "T_max": 200}
    with pytest.raises(
        ConfigError, match=r"^optim.schedule._target_=torch.optim.lr_sch.* does not"
    ):
        first_lowered_epoch(cosine, 200)
    with pytest.raises(ConfigError, match=r"^optim.schedule.milestones=160 must be a list of"):
        first_lowered_epoch({"every": None, "milestones": 160}, 200)
    with pytest.raises(ConfigError, match=r"^optim.schedule.milestones=\[160.5\] must be a"):
        rates(1, milestones=[160.5])


def test_the_warm_up_scales_the_stepped_rate():
    # every=2 steps at epochs 3 and 5, the first inside a 4-epoch warm-up: 0.1 x 3/4 x 0.1 at 3.
    assert rates(5, warmup_epochs=4, every=2) == pytest.approx([0.025, 0.05, 0.0075, 0.01, 0.001])


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        (  # read by DRW's default epoch, through a config resolver, before any check
            ["remedy=drw", "optim.schedule.milestones=160", "optim.schedule.every=null"],
            "error: optim.schedule.milestones=160 must be a list of epochs counted from 1, "
            "e.g. [160,180], or null",
        ),
        (
            ["optim.schedule._partial_=false"],
            "error: optim.schedule cannot be built (EpochSchedule.__init__() missing 1 required "
            "positional argument: 'optimizer'); fix its settings",
        ),
    ],
)
def test_a_schedule_that_cannot_be_built_is_one_line_from_the_command(tmp_path, overrides, line):
    result = run_main(*overrides, "trainer.max_epochs=1", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip() == line
