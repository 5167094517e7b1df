from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import file_lists, make_image_tree
from imbalance.data.sources import (
    Caltech101,
    Digits,
    FileCatalog,
    FileLists,
    ImageFolder,
    UnreadableImages,
)
from imbalance.errors import ConfigError


def test_digits_are_the_bundled_real_images():
    catalog = Digits().catalog(None, None)
    assert catalog.class_names == [str(d) for d in range(10)]
    assert len(catalog.labels) == 1797
    assert catalog.channels == 1
    images = catalog.decode([0, 1, 2], 32)
    assert images.shape == (3, 1, 32, 32) and images.dtype == torch.uint8
    assert images.max() > 200  # stretched from 0-16 to 0-255


def test_digits_class_subset_is_relabelled_in_the_order_given():
    catalog = Digits().catalog(None, ["7", "3"])
    assert catalog.class_names == ["7", "3"]
    assert set(np.unique(catalog.labels)) == {0, 1}
    with pytest.raises(ConfigError, match="class 'x' is not in the digits data set"):
        Digits().catalog(None, ["x"])


def test_folder_lists_classes_from_folder_names_and_decodes_rgb(image_tree):
    root = image_tree({"b": 3, "a": 2}, grey="a")
    catalog = ImageFolder().catalog(str(root), None)
    assert catalog.class_names == ["a", "b"]
    assert catalog.labels.tolist() == [0, 0, 1, 1, 1]
    images = catalog.decode(range(5), 24)
    # Varied sizes resized, the greyscale image made RGB.
    assert images.shape == (5, 3, 24, 24) and images.dtype == torch.uint8
    grey = images[0]
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])


def test_folder_errors_are_one_clear_line(image_tree, tmp_path):
    root = image_tree({"a": 2})
    with pytest.raises(ConfigError, match="does not exist"):
        ImageFolder().catalog(str(tmp_path / "nowhere"), None)
    with pytest.raises(ConfigError, match=r"class folder '.*/b' is missing"):
        ImageFolder().catalog(str(root), ["a", "b"])
    with pytest.raises(ConfigError, match="needs data.root"):
        ImageFolder().catalog(None, None)
    (root / "c").mkdir()
    (root / "c" / "notes.txt").write_text("not an image")
    with pytest.raises(ConfigError, match=r"class folder '.*/c' holds no image files \(.jpg "):
        ImageFolder().catalog(str(root), None)
    (root / "c" / "notes.txt").unlink()
    with pytest.raises(ConfigError, match=r"class folder '.*/c' holds no image files"):
        ImageFolder().catalog(str(root), None)


@pytest.mark.parametrize("cached", [False, True])
def test_unreadable_image_files_are_named_all_at_once(image_tree, tmp_path, cached):
    root = image_tree({"a": 3, "b": 3})
    (root / "a" / "image_0001.jpg").write_bytes(b"not an image")
    whole = (root / "b" / "image_0002.jpg").read_bytes()
    (root / "b" / "image_0002.jpg").write_bytes(whole[: len(whole) // 2])
    catalog = ImageFolder().catalog(str(root), None)
    cache = tmp_path / "cache" if cached else None
    with pytest.raises(ConfigError) as error:
        catalog.decode(range(6), 16, cache)
    message = str(error.value)
    assert message.startswith("2 image file(s) cannot be read: ")
    assert "a/image_0001.jpg (UnidentifiedImageError: cannot identify image file" in message
    assert "b/image_0002.jpg (OSError: image file is truncated" in message
    assert message.endswith("remove or replace them") and "\n" not in message
    assert catalog.decode([1, 2, 3, 5], 16, cache).shape == (4, 3, 16, 16)  # the others are fine


@pytest.mark.parametrize("layout", ["folder itself", "parent", "torchvision"])
def test_caltech101_root_may_be_any_of_three_levels(tmp_path, layout):
    base = {
        "folder itself": tmp_path / "101_ObjectCategories",
        "parent": tmp_path / "101_ObjectCategories",
        "torchvision": tmp_path / "caltech101" / "101_ObjectCategories",
    }[layout]
    make_image_tree(base, {"Faces": 2, "water_lilly": 2, "BACKGROUND_Google": 1})
    root = base if layout == "folder itself" else tmp_path
    catalog = Caltech101().catalog(str(root), ["water_lilly", "Faces"])
    assert catalog.class_names == ["water_lilly", "Faces"]
    assert len(catalog.labels) == 4
    # Every object class: the background clutter is none.
    assert Caltech101().catalog(str(root), None).class_names == ["Faces", "water_lilly"]


def test_caltech101_without_files_fails_clearly_when_not_downloading(tmp_path):
    with pytest.raises(ConfigError, match="no Caltech101 under data.root=.*data.source.download"):
        Caltech101().catalog(str(tmp_path), ["Faces"])


def test_the_image_cache_decodes_each_file_once_and_serves_it_after(
    image_tree, tmp_path, monkeypatch
):
    root = image_tree({"a": 2, "b": 2})
    catalog = ImageFolder().catalog(str(root), None)
    cache = tmp_path / "cache"
    first = catalog.decode([0, 1, 2, 3], 24, cache)
    assert torch.equal(first, catalog.decode([0, 1, 2, 3], 24))  # the same pixels as no cache
    assert len(list(cache.rglob("*.npy"))) == 4

    def no_decoding(path, size):
        raise AssertionError(f"{path} decoded again")

    monkeypatch.setattr(FileCatalog, "decode_file", staticmethod(no_decoding))
    assert torch.equal(catalog.decode([3, 2], 24, cache), first[[3, 2]])
    with pytest.raises(AssertionError, match="decoded again"):
        catalog.decode([0], 16, cache)  # another size is another entry


def test_the_image_cache_notices_a_changed_file(image_tree, tmp_path):
    root = image_tree({"a": 1})
    catalog = ImageFolder().catalog(str(root), None)
    cache = tmp_path / "cache"
    before = catalog.decode([0], 8, cache)
    Image.new("RGB", (30, 30), (255, 0, 0)).save(catalog.paths[0])
    after = catalog.decode([0], 8, cache)
    assert not torch.equal(before, after) and after[0, 0].min() > 200  # red now
    assert len(list(cache.rglob("*.npy"))) == 2


def test_a_file_replaced_in_place_with_its_size_and_times_put_back_is_decoded_again(
    image_tree, tmp_path
):
    import os

    root = image_tree({"a": 2})
    catalog = ImageFolder().catalog(str(root), None)
    cache = tmp_path / "cache"
    path = catalog.paths[0]
    before = catalog.decode([0], 8, cache)
    stat, old = os.stat(path), open(path, "rb").read()
    other = bytearray(Path(catalog.paths[1]).read_bytes())
    # An image of the same size: the other file's bytes, cut or padded after its end marker.
    other = other[: len(old)] if len(other) >= len(old) else other + bytes(len(old) - len(other))
    Path(path).write_bytes(bytes(other))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_size == stat.st_size and os.stat(path).st_mtime_ns == stat.st_mtime_ns
    after = catalog.decode([0], 8, cache)
    assert torch.equal(after, catalog.decode([0], 8))  # the new pixels, not the cached old ones
    assert not torch.equal(before, after)


@pytest.mark.parametrize("damage", ["empty", "cut", "other shape"])
@pytest.mark.parametrize("way", ["decode", "cached"])
def test_a_damaged_cache_entry_is_decoded_again_with_a_line_in_the_log(
    image_tree, tmp_path, caplog, damage, way
):
    root = image_tree({"a": 2})
    catalog = ImageFolder().catalog(str(root), None)
    cache = tmp_path / "cache"
    expected = catalog.decode([0, 1], 8)
    catalog.decode([0, 1], 8, cache)
    entry = catalog.cached([0], 8, cache)[0].decode()
    content = Path(entry).read_bytes()
    if damage == "other shape":
        np.save(entry, np.zeros((4, 4, 3), np.uint8))
    else:
        Path(entry).write_bytes(b"" if damage == "empty" else content[: len(content) // 2])
    if way == "decode":
        assert torch.equal(catalog.decode([0, 1], 8, cache), expected)
    else:
        catalog.cached([0, 1], 8, cache)
    assert Path(entry).read_bytes() == content  # repaired
    (line,) = [r.getMessage() for r in caplog.records if "image cache entry" in r.getMessage()]
    assert line.startswith(f"image cache entry {entry} ") and line.endswith("decoded again")


def test_jobs_filling_the_cache_at_once_agree_and_leave_no_partial_files(image_tree, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    root = image_tree({"a": 6, "b": 6})
    catalog = ImageFolder().catalog(str(root), None)
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: catalog.decode(range(12), 16, cache), range(4)))
    assert all(torch.equal(result, results[0]) for result in results)
    assert len(list(cache.rglob("*.npy"))) == 12
    assert not list(cache.rglob("*.tmp"))


def test_hidden_and_system_folders_and_files_are_not_data(image_tree):
    root = image_tree({"a": 2, "b": 2})
    make_image_tree(root / ".thumbnails", {"x": 2})  # at the root: not a class
    make_image_tree(root / "a" / "@eaDir", {"image_0001.jpg": 1})  # a NAS's thumbnails
    make_image_tree(root / "b" / ".cache", {"deep": 1})
    (root / "a" / "._image_0001.jpg").write_bytes(b"\0\5\26\7 macOS resource fork")
    catalog = ImageFolder().catalog(str(root), None)
    assert catalog.class_names == ["a", "b"]
    assert sorted(catalog.ids) == [
        "a/image_0001.jpg", "a/image_0002.jpg", "b/image_0001.jpg", "b/image_0002.jpg",
    ]  # fmt: skip


def test_images_in_plain_subfolders_of_a_class_still_count(image_tree):
    root = image_tree({"a": 1, "b": 1})
    make_image_tree(root / "a" / "2019", {"summer": 2})
    assert len(ImageFolder().catalog(str(root), None).ids) == 4


@pytest.mark.parametrize("cached", [False, True])
def test_every_unreadable_file_gives_the_same_one_line_error(
    image_tree, tmp_path, cached, monkeypatch
):
    root = image_tree({"a": 4, "b": 2})
    (root / "a" / "image_0001.jpg").unlink()
    (root / "a" / "image_0001.jpg").symlink_to(root / "a" / "gone.jpg")  # a dangling link
    catalog = ImageFolder().catalog(str(root), None)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # every other image is now "too large"
    cache = tmp_path / "cache" if cached else None
    with pytest.raises(UnreadableImages) as error:
        catalog.decode(range(6), 16, cache)
    message = str(error.value)
    assert message.startswith("6 image file(s) cannot be read: ") and "\n" not in message
    assert "a/image_0001.jpg (FileNotFoundError: " in message
    assert "(DecompressionBombError: " in message
    assert len(error.value.files) == 6


def test_class_names_in_messages_are_quoted(image_tree):
    root = image_tree({"berries, red": 1, "猫": 1})
    with pytest.raises(ConfigError, match="the folder has: 'berries, red', '猫'"):
        ImageFolder().catalog(str(root), ["dog"])


def test_image_files_come_in_torchvisions_order(image_tree):
    # The order decides which images a seed draws: it must stay torchvision's ImageFolder order.
    from torchvision.datasets.folder import IMG_EXTENSIONS, make_dataset

    root = image_tree({"b": 3, "a": 2, "a-1": 1})
    make_image_tree(root / "a" / "2019", {"x": 2, "x-y": 1})
    make_image_tree(root / "a" / "2019-old", {"z": 1})
    names = ["b", "a", "a-1"]
    catalog = ImageFolder().catalog(str(root), names)
    expected = make_dataset(str(root), {n: i for i, n in enumerate(names)}, IMG_EXTENSIONS)
    assert catalog.paths == [path for path, _ in expected]
    assert catalog.labels.tolist() == [label for _, label in expected]


def test_file_lists_give_their_splits_as_they_are(tmp_path):
    root, files = file_lists(tmp_path, {"ant": 9, "bee": 5, "cat": 3})
    source = FileLists(str(files["train"]), str(files["test"]), None, str(files["class_names"]))
    catalog = source.catalog(str(root), None)
    assert catalog.class_names == ["ant", "bee", "cat"]
    train, test = (catalog.labels[catalog.splits[split]] for split in ("train", "test"))
    assert np.bincount(train).tolist() == [7, 3, 1] and np.bincount(test).tolist() == [2, 2, 2]
    assert catalog.ids[catalog.splits["test"][0]] == "ant/image_0001.jpg"  # paths as listed
    unnamed = FileLists(str(files["train"]), str(files["test"])).catalog(str(root), None)
    assert unnamed.class_names == ["0", "1", "2"]  # the label numbers


def test_every_problem_of_the_file_lists_is_named_at_once_one_a_line(tmp_path):
    root, files = file_lists(tmp_path, {"ant": 9, "bee": 5, "cat": 3})
    lines = files["train"].read_text().splitlines()
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "\n".join(
            [
                *lines[:2],
                "just/a/path.jpg",  # line 3: no label
                "ant/image_0009.jpg 3",  # line 4: 3 classes, labels 0 to 2
                "ant/image_0099.jpg 0",  # line 5: no such image
                "ant/image_0001.jpg 0",  # line 6: a test image
            ]
        )
    )
    val, names = str(tmp_path / "val.txt"), str(files["class_names"])  # no val.txt
    source = FileLists(str(bad), str(files["test"]), val, names)
    with pytest.raises(ConfigError) as error:
        source.catalog(str(root), None)
    message = str(error.value).splitlines()
    assert message[0] == "the file lists have 5 problem(s); fix them and run again:"
    assert sorted(message[1:]) == sorted(
        [
            f"data.source.val='{tmp_path / 'val.txt'}' does not exist",
            f"{bad} line 3: 'just/a/path.jpg' is not 'path label'",
            f"{bad} line 4: label 3 is outside 0 to 2 (the classes of data.source.class_names)",
            f"{bad} line 5: ant/image_0099.jpg is not under {root}",
            f"ant/image_0001.jpg is listed in train and in test ({bad} line 6 and "
            f"{files['test']} line 1): one image in two splits",
        ]
    )


def test_files_passed_over_are_counted_by_reason_and_types_can_be_added(image_tree, caplog):
    from PIL import Image

    root = image_tree({"a": 2, "b": 2})
    Image.new("RGB", (8, 8), "red").save(root / "a" / "animated.gif")
    (root / "a" / "notes.txt").write_text("not an image")
    (root / "b" / "Thumbs.db").write_bytes(b"\0")
    (root / "b" / ".DS_Store").write_bytes(b"\0")
    make_image_tree(root / "b" / "@eaDir", {"x": 1})
    with caplog.at_level("INFO"):
        catalog = ImageFolder().catalog(str(root), None)
    assert len(catalog.ids) == 4
    (line,) = [r.getMessage() for r in caplog.records if "passed over" in r.getMessage()]
    assert line.startswith(
        f"passed over under {root}: 1 hidden, 1 not an image type: .gif, "
        "1 not an image type: .txt, 1 system, 1 system folder (image types read: .jpg"
    )
    assert line.endswith("data.source.extensions=[...] changes them)")

    with_gif = ImageFolder(extensions=["jpg", ".GIF"]).catalog(str(root), None)
    assert sorted(with_gif.ids) == [
        "a/animated.gif", "a/image_0001.jpg", "a/image_0002.jpg",
        "b/image_0001.jpg", "b/image_0002.jpg",
    ]  # fmt: skip
    assert with_gif.decode(range(len(with_gif.ids)), 8, None).shape == (5, 3, 8, 8)
