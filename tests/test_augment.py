import torch

from imbalance.data.augment import RandomAffine


def test_no_augmentation_is_the_identity():
    images = torch.rand(4, 3, 16, 16)
    assert torch.allclose(RandomAffine()(images), images, atol=1e-5)


def test_flip_with_probability_one_mirrors_left_right():
    images = torch.rand(4, 3, 16, 16)
    assert torch.allclose(RandomAffine(hflip=1.0)(images), images.flip(-1), atol=1e-5)


def test_each_image_gets_its_own_draw():
    torch.manual_seed(0)
    image = torch.rand(1, 1, 32, 32)
    out = RandomAffine(rotation=20, translate=30, reference_size=227)(image.repeat(8, 1, 1, 1))
    assert len({tuple(o.flatten().round(decimals=4).tolist()) for o in out}) == 8


def test_translation_is_scaled_from_the_reference_size():
    # 3 pixels at 227 is ~0.42 pixels at 32: every pixel moves by less than one pixel.
    torch.manual_seed(0)
    image = torch.zeros(64, 1, 32, 32)
    image[:, :, 16, 16] = 1.0
    out = RandomAffine(translate=3, reference_size=227)(image)
    rows, cols = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    mass = out.sum(dim=(1, 2, 3))
    centre_row = (out[:, 0] * rows).sum(dim=(1, 2)) / mass
    centre_col = (out[:, 0] * cols).sum(dim=(1, 2)) / mass
    assert (centre_row - 16).abs().max() <= 3 * 32 / 227 + 1e-4
    assert (centre_col - 16).abs().max() <= 3 * 32 / 227 + 1e-4
    assert (centre_col - 16).abs().max() > 0.1  # and it does move


def test_rotation_stays_within_its_range():
    torch.manual_seed(0)
    image = torch.zeros(32, 1, 65, 65)
    image[:, :, 32, 32:60] = 1.0  # a horizontal bar from the centre to the right
    out = RandomAffine(rotation=20)(image)
    rows, cols = torch.meshgrid(torch.arange(65.0), torch.arange(65.0), indexing="ij")
    mass = out[:, 0].sum(dim=(1, 2))
    dy = ((out[:, 0] * rows).sum(dim=(1, 2)) / mass) - 32
    dx = ((out[:, 0] * cols).sum(dim=(1, 2)) / mass) - 32
    angles = torch.rad2deg(torch.atan2(dy, dx)).abs()
    assert angles.max() <= 20.5 and angles.max() > 5
