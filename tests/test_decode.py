"""Image files in every mode PIL opens reach 8-bit RGB with their content intact."""

import numpy as np
import pytest
from PIL import Image

from imbalance.data.decode import to_rgb8
from imbalance.data.sources import FileCatalog

# A known pattern: 8 x 8 grey levels 0, 4, ..., 252 (as 8-bit values). Modes 1, L, LA, P (with
# or without transparency), RGB, RGBA, CMYK, YCbCr, I;16, I and F are each checked below.
LEVELS = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)


def grey(pixels) -> np.ndarray:
    """The decoded file's pixels, checked to be grey, as one channel."""
    rgb = np.asarray(pixels)
    assert rgb.dtype == np.uint8 and rgb.shape[-1] == 3
    assert np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
    return rgb[..., 0].astype(int)


def saved(image: Image.Image, path) -> str:
    image.save(path)
    return str(path)


@pytest.mark.parametrize(
    "mode, make, suffix, tolerance",
    [
        ("L", lambda: Image.fromarray(LEVELS), "png", 0),
        ("I;16", lambda: Image.fromarray(LEVELS.astype(np.uint16) * 257), "png", 0),
        ("I", lambda: Image.fromarray(LEVELS.astype(np.int32) * 257), "tiff", 0),
        ("I", lambda: Image.fromarray(LEVELS.astype(np.int32)), "tiff", 0),  # 8-bit values
        ("F", lambda: Image.fromarray(LEVELS.astype(np.float32) / 255), "tiff", 0),
        ("P", lambda: Image.fromarray(LEVELS).convert("P"), "png", 0),
        ("RGB", lambda: Image.fromarray(LEVELS).convert("RGB"), "png", 0),
        ("CMYK", lambda: Image.fromarray(LEVELS).convert("CMYK"), "tiff", 0),
    ],
)
def test_every_mode_reaches_8_bit_rgb_with_its_levels(tmp_path, mode, make, suffix, tolerance):
    path = saved(make(), tmp_path / f"image.{suffix}")
    with Image.open(path) as image:
        assert image.mode.startswith(mode[0])  # the file holds what the case says
    pixels = grey(FileCatalog.decode_file(path, 8))  # at its own size: no resampling
    assert np.abs(pixels - LEVELS.astype(int)).max() <= tolerance, mode


def test_ycbcr_in_memory_reaches_rgb():  # JPEG files in YCbCr open as RGB: made here instead
    image = Image.fromarray(LEVELS).convert("YCbCr")
    assert np.abs(grey(to_rgb8(image)) - LEVELS.astype(int)).max() <= 1


def test_a_16_bit_image_is_scaled_not_clipped(tmp_path):
    # Clipping would make every level above 255 white: 16-bit 0..65535 must span 0..255.
    image = Image.fromarray((np.arange(16).reshape(4, 4) * 4369).astype(np.uint16))
    pixels = grey(FileCatalog.decode_file(saved(image, tmp_path / "deep.png"), 4))
    assert pixels.flatten().tolist() == [i * 17 for i in range(16)]


def test_bilevel_images_are_black_and_white(tmp_path):
    image = Image.fromarray(LEVELS > 127).convert("1")
    pixels = grey(FileCatalog.decode_file(saved(image, tmp_path / "bits.png"), 8))
    assert np.array_equal(pixels, np.where(LEVELS > 127, 255, 0))


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_composited_onto_white(tmp_path, mode):
    # Left half opaque black, right half fully transparent (stored as red, or black).
    if mode == "P":
        image = Image.new("P", (8, 8))
        image.putpalette([0, 0, 0, 255, 0, 0])
        image.putdata([0, 0, 0, 0, 1, 1, 1, 1] * 8)
        image.save(tmp_path / "alpha.png", transparency=1)  # palette entry 1 is transparent
    else:
        rgba = np.zeros((8, 8, 4), dtype=np.uint8)
        rgba[:, :4, 3] = 255
        Image.fromarray(rgba).convert(mode).save(tmp_path / "alpha.png")
    pixels = grey(FileCatalog.decode_file(str(tmp_path / "alpha.png"), 8))
    assert (pixels[:, :4] == 0).all() and (pixels[:, 4:] == 255).all()


def test_a_transparent_grey_value_of_a_16_bit_image_becomes_white(tmp_path):
    values = (np.arange(16).reshape(4, 4) * 4369).astype(np.uint16)  # 0, 17, 34... as 8 bits
    Image.fromarray(values).save(tmp_path / "deep.png", transparency=4369 * 3)
    with Image.open(tmp_path / "deep.png") as image:
        assert image.mode == "I;16" and image.info["transparency"] == 4369 * 3
    pixels = grey(FileCatalog.decode_file(str(tmp_path / "deep.png"), 4)).flatten().tolist()
    assert pixels == [255 if i == 3 else i * 17 for i in range(16)]


def test_premultiplied_grey_and_alpha_is_composited_onto_white():
    image = Image.new("La", (2, 1))
    image.putpixel((0, 0), (0, 255))  # opaque black
    image.putpixel((1, 0), (0, 0))  # transparent
    assert grey(to_rgb8(image)).tolist() == [[0, 255]]


def test_exif_orientation_is_applied(tmp_path):
    # A 4 x 2 landscape picture, its left column white, stored with "rotate 90 CW to view".
    pixels = np.zeros((2, 4), dtype=np.uint8)
    pixels[:, 0] = 255
    image = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the viewer rotates 90 degrees clockwise
    image.save(tmp_path / "phone.jpg", exif=exif, quality=100)
    with Image.open(tmp_path / "phone.jpg") as opened:
        upright = np.asarray(to_rgb8(opened))[..., 0]
    assert upright.shape == (4, 2)  # portrait, as a photo viewer shows it
    assert upright[0].min() > 200 and upright[-1].max() < 50  # the white column is now on top
