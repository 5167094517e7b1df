"""The learning-rate schedule against its formula, and against torch's StepLR."""

import pytest
import torch

from imbalance.errors import ConfigError
from imbalance.schedule import EpochSchedule, last_full_rate_epoch


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
    with pytest.raises(ConfigError, match=r"^optim.schedule.milestones=\[0, 5\] must be epochs"):
        rates(1, milestones=[0, 5])
    with pytest.raises(ConfigError, match="^optim.schedule.every=0 must be at least 1"):
        rates(1, every=0)


@pytest.mark.parametrize(
    ("schedule", "epochs", "last"),
    [
        ({"every": 25}, 50, 25),  # the digits: the rate falls after epoch 25
        ({"every": 25}, 10, 10),  # a shorter run never lowers it
        ({"every": None, "milestones": [180, 160]}, 200, 160),  # Cao et al.
        ({"every": None, "milestones": None}, 30, 30),  # a constant rate
    ],
)
def test_the_last_epoch_at_full_rate_is_where_the_schedule_first_steps(schedule, epochs, last):
    assert last_full_rate_epoch(schedule, epochs) == last
