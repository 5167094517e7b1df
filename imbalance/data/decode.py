"""An image file as people have them, to the 8-bit RGB pixels every source gives.

- Orientation: a photo's EXIF orientation tag is applied (ImageOps.exif_transpose), so a phone
  picture tagged "rotate 90" trains upright, as every photo viewer shows it. (MATLAB's imread,
  which the paper used, ignores the tag; Caltech101's images have none.)
- Depth: 16-bit images (I;16 and its byte orders) are scaled to 8 bits (v / 257), not clipped.
  32-bit integer images (I) say nothing of the depth of their values, so their range decides:
  within 0-255 they are taken as 8-bit values, within 0-65535 as 16-bit ones (a 12-bit camera's
  values in a 16-bit container stay dark, as image viewers show them), else stretched from their
  minimum to their maximum. Float images (F) are taken as 0-1 when they lie within it, else
  stretched likewise (NaN as 0).
- Transparency (RGBA, LA, PA, the premultiplied RGBa and La, and P, L or 16-bit grey with a
  transparent value) is composited onto white.
- Every other mode PIL opens (1, L, P, RGB, CMYK, YCbCr...) is converted by PIL.
"""

import numpy as np
from PIL import Image, ImageOps

SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}
WITH_ALPHA = {"RGBA", "LA", "PA", "RGBa", "La"}


def _stretch(values: np.ndarray, low: float, high: float) -> Image.Image:
    scaled = (values.astype(np.float64) - low) / ((high - low) or 1.0) * 255
    return Image.fromarray(np.rint(np.clip(scaled, 0, 255)).astype(np.uint8))


def to_rgb8(image: Image.Image) -> Image.Image:
    """`image` upright, 8-bit RGB, its content intact (the module's rules)."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "La":  # premultiplied alpha: PIL converts it to LA only
        image = image.convert("LA")
    if image.mode in SIXTEEN_BIT or image.mode == "I":
        values = np.asarray(image)
        transparent = image.info.get("transparency")  # a grey value (PNG's tRNS)
        low, high = values.min(), values.max()
        if image.mode in SIXTEEN_BIT or (low >= 0 and high > 255 and high <= 65535):
            image = _stretch(values, 0, 65535)
        elif low >= 0 and high <= 255:
            image = _stretch(values, 0, 255)
        else:
            image = _stretch(values, low, high)
        if transparent is not None:
            image.putalpha(
                Image.fromarray(np.where(values == transparent, 0, 255).astype(np.uint8))
            )
    elif image.mode == "F":
        values = np.nan_to_num(np.asarray(image))  # a missing value (NaN) as 0
        inside = values.min() >= 0 and values.max() <= 1
        image = _stretch(values, 0, 1) if inside else _stretch(values, values.min(), values.max())
    if image.mode in WITH_ALPHA or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")
