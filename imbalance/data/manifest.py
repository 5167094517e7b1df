"""Manifests: the images of each split of a run, by id, so that others can train on exactly them.

A manifest is `{split: {class name: [image id, ...]}}` for the splits `train`, `val` and `test`,
each class's images in the order the run used them. An id is what the source calls an image: a
file's path relative to the folder of class folders, or an index for an in-memory data set.
Every results.json holds its run's manifest under `splits` (and its hash under `splits_hash`),
so a results.json is a manifest file, as is any JSON file with a `splits` key.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from imbalance.errors import ConfigError, quoted

SPLITS = ("train", "val", "test")


def manifest_of(class_names: list[str], labels, ids: list, splits: dict[str, np.ndarray]) -> dict:
    """The manifest of `splits` (catalog indices per split) of a catalog's images."""
    labels = np.asarray(labels)
    manifest = {}
    for split, indices in splits.items():
        indices = np.asarray(indices, dtype=np.int64)
        by_class = {name: [] for name in class_names}
        for i, c in zip(indices.tolist(), labels[indices].tolist(), strict=True):
            by_class[class_names[c]].append(ids[i])  # each class's images in split order
        manifest[split] = by_class
    return manifest


def splits_hash(manifest: dict) -> str:
    """sha256 of the manifest's canonical JSON: equal hashes, identical splits."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_manifest(path: str | Path) -> dict:
    """The whole file (a results.json or a manifest file); its `splits` are checked for shape.

    Raises ConfigError, one line, for a file that is not there or holds no manifest.
    """
    path = Path(path).expanduser()
    try:
        content = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(
            f"data.manifest='{path}' does not exist; give a run's results.json"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"data.manifest='{path}' is not a JSON file ({error})") from error
    splits = content.get("splits") if isinstance(content, dict) else None
    shaped = isinstance(splits, dict) and all(
        split in SPLITS
        and isinstance(by_class, dict)
        and all(isinstance(ids, list) for ids in by_class.values())
        for split, by_class in splits.items()
    )
    if not shaped or "train" not in splits or "test" not in splits:
        raise ConfigError(
            f"data.manifest='{path}' has no manifest: it needs a key 'splits' with 'train' and "
            f"'test', each {{class: [image ids]}}, as every results.json has"
        )
    return content


def select_from_manifest(
    class_names: list[str], labels, ids: list, manifest: dict, where: str
) -> dict[str, np.ndarray]:
    """Catalog indices per split, in the manifest's order.

    Raises ConfigError naming the first class or image of the manifest that the data lacks, a
    class of the data that the manifest lacks, or an image listed twice.
    """
    labels = np.asarray(labels)
    position = {image: i for i, image in enumerate(ids)}
    splits = manifest["splits"]
    named = {name for by_class in splits.values() for name in by_class}
    unknown = sorted(named - set(class_names))
    if unknown:
        raise ConfigError(
            f"data.manifest: class '{unknown[0]}' is not in the data ({where} has: "
            f"{quoted(class_names)}); fix data.classes or data.root"
        )
    untrained = [name for name in class_names if not splits["train"].get(name)]
    if untrained:
        raise ConfigError(
            f"data.manifest has no training images of class '{untrained[0]}'; set data.classes "
            f"to the manifest's classes"
        )
    seen = {}
    for split, by_class in splits.items():
        for image in (image for images in by_class.values() for image in images):
            if image in seen:
                raise ConfigError(
                    f"data.manifest lists image '{image}' in {seen[image]} and again in {split}; "
                    f"each image may be in one split, once"
                )
            seen[image] = split
    selected = {}
    for split, by_class in splits.items():
        indices = []
        for name, images in by_class.items():
            c = class_names.index(name)
            for image in images:
                i = position.get(image)
                if i is None or labels[i] != c:
                    raise ConfigError(
                        f"data.manifest: image '{image}' of class '{name}' is not in the data "
                        f"({where}); fix data.root, or use a manifest made from this data"
                    )
                indices.append(i)
        selected[split] = np.array(indices, dtype=np.int64)
    return selected
