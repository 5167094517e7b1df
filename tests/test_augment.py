import torch

from imbalance.data.augment import RandomAffine, RandomCropFlip


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


def test_crop_and_flip_takes_each_image_from_its_own_window_of_the_padded_image():
    torch.manual_seed(0)
    n, size, padding = 256, 6, 4
    image = torch.arange(1.0, size * size + 1).reshape(1, 1, size, size)  # every pixel unique
    out = RandomCropFlip(padding=padding, hflip=0.5)(image.repeat(n, 1, 1, 1))
    padded = torch.nn.functional.pad(image[0, 0], [padding] * 4)
    windows = {
        (top, left, flip): window.flip(-1) if flip else window
        for top in range(2 * padding + 1)
        for left in range(2 * padding + 1)
        for flip in (False, True)
        for window in [padded[top : top + size, left : left + size]]
    }
    drawn = []
    for crop in out[:, 0]:
        (match,) = [key for key, window in windows.items() if torch.equal(crop, window)]
        drawn.append(match)
    # Each image its own window: all 9 offsets of each axis and both flips among 256 images.
    assert {top for top, _, _ in drawn} == set(range(2 * padding + 1))
    assert {left for _, left, _ in drawn} == set(range(2 * padding + 1))
    assert 0.35 < sum(flip for _, _, flip in drawn) / n < 0.65


def test_crop_and_flip_without_padding_and_with_a_sure_flip_is_a_mirror():
    images = torch.rand(4, 3, 6, 6)
    assert torch.equal(RandomCropFlip(padding=0, hflip=1.0)(images), images.flip(-1))
    assert torch.equal(RandomCropFlip(padding=0, hflip=0.0)(images), images)


def test_crop_pads_with_black_as_torchvisions_random_crop():
    torch.manual_seed(1)
    images = torch.ones(64, 3, 4, 4)
    out = RandomCropFlip(padding=2, hflip=0.0)(images)
    # A crop at offset (0, 0) of the padded image shows 2 black rows on top, 2 columns left.
    zeros = (out == 0).float().mean()
    assert 0 < zeros < 1
    assert set(out.unique().tolist()) == {0.0, 1.0}
