"""The long-tail benchmarks' split files: ImageNet-LT, Places-LT and iNaturalist 2018 ship their
splits as lists of `relative/path.jpg label` lines, one per image, paths relative to the images'
folder (data.root). The splits are used as they are."""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from imbalance.data.sources.catalog import FileCatalog
from imbalance.data.sources.folder import file_identity
from imbalance.data.spelling import class_name, expand
from imbalance.errors import ConfigError

SHOWN = 10  # problems of one kind named in full; the rest counted


class FileLists:
    """Train, test and optionally validation lists (`train`, `test`, `val`: paths to the list
    files), with class names from `class_names` (a file of one name a line, in label order) or,
    without it, the label numbers. Every problem of the lists is named at once, one a line:
    a list that is missing, a line that does not parse, a label out of range, a listed image
    that is missing, an image listed in two splits (a leak from training into test)."""

    def __init__(
        self, train: str, test: str, val: str | None = None, class_names: str | None = None
    ):
        self.lists = {"train": train, "val": val, "test": test}
        self.class_names = class_names

    def catalog(self, root: str | None, classes: Sequence[str] | None) -> FileCatalog:
        if root is None:
            raise ConfigError(
                "data=filelist needs data.root=<the folder the lists' paths start in>"
            )
        if classes is not None:
            raise ConfigError(
                "data.classes cannot choose classes of file lists, whose splits are used as they "
                "are: drop data.classes"
            )
        problems = Problems()
        names = self._names(problems)
        entries = {  # split -> [(path, label, line number)]
            split: self._read(split, path, problems)
            for split, path in self.lists.items()
            if path is not None
        }
        count = (
            len(names)
            if names is not None
            else 1 + max((label for lines in entries.values() for _, label, _ in lines), default=-1)
        )
        # A file, whatever the spelling of its path (./cat/1.png, cat//1.png, a link to it) ->
        # (its first split, line, path as written).
        seen: dict[tuple, tuple[str, int, str]] = {}
        for split, lines in entries.items():
            where = self.lists[split]
            for path, label, number in lines:
                if not 0 <= label < count:
                    problems.add(
                        "label",
                        f"{where} line {number}: label {label} is outside 0 to {count - 1}"
                        + (" (the classes of data.source.class_names)" if names else ""),
                    )
                if not os.path.isfile(os.path.join(root, path)):
                    problems.add("missing", f"{where} line {number}: {path} is not under {root}")
                    continue
                identity = file_identity(os.path.join(root, path))
                if identity not in seen:
                    seen[identity] = (split, number, path)
                    continue
                first, first_line, written = seen[identity]
                listed = f"{self.lists[first]} line {first_line} and {where} line {number}"
                same = f"{path} is" if written == path else f"{written} and {path}, one file,"
                problems.add(
                    "twice",
                    f"{same} listed twice in {split} ({listed})"
                    if first == split
                    else f"{same} listed in {first} and in {split} ({listed}): one image "
                    "in two splits",
                )
        problems.raise_any()

        paths, labels, splits, start = [], [], {}, 0
        for split, lines in entries.items():
            paths += [os.path.join(root, path) for path, _, _ in lines]
            labels += [label for _, label, _ in lines]
            splits[split] = np.arange(start, start + len(lines))
            start += len(lines)
        names = names if names is not None else [str(label) for label in range(count)]
        return FileCatalog(names, np.array(labels, dtype=np.int64), paths, root, splits)

    def _names(self, problems: "Problems") -> list[str] | None:
        if self.class_names is None:
            return None
        path = Path(expand(self.class_names))
        if not path.is_file():
            problems.add("list", f"data.source.class_names='{path}' does not exist")
            return None
        try:
            text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not text
        except (OSError, UnicodeDecodeError) as error:
            problems.add("list", f"data.source.class_names='{path}' cannot be read ({error})")
            return None
        return [class_name(line.strip()) for line in text.splitlines() if line.strip()]

    def _read(self, split: str, given: str, problems: "Problems") -> list[tuple[str, int, int]]:
        path = Path(expand(given))
        if not path.is_file():
            problems.add("list", f"data.source.{split}='{path}' does not exist")
            return []
        try:
            text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not text
        except (OSError, UnicodeDecodeError) as error:
            problems.add("list", f"data.source.{split}='{path}' cannot be read ({error})")
            return []
        lines, written = [], 0
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            written += 1
            fields = line.rsplit(maxsplit=1)
            try:
                lines.append((fields[0].strip(), int(fields[1]), number))
            except (IndexError, ValueError):
                problems.add("parse", f"{given} line {number}: '{line}' is not 'path label'")
        if not written:
            problems.add("list", f"data.source.{split}='{path}' lists no image")
        return lines


class Problems:
    """Every problem of the lists by kind, raised at once as one ConfigError of a line each
    (the first SHOWN of each kind, and how many more)."""

    def __init__(self):
        self.found: dict[str, list[str]] = {}

    def add(self, kind: str, line: str) -> None:
        self.found.setdefault(kind, []).append(line)

    def raise_any(self) -> None:
        if not self.found:
            return
        lines = []
        for found in self.found.values():
            lines += found[:SHOWN]
            if len(found) > SHOWN:
                lines.append(f"... and {len(found) - SHOWN} more like it")
        total = sum(len(found) for found in self.found.values())
        raise ConfigError(
            f"the file lists have {total} problem(s); fix them and run again:\n" + "\n".join(lines)
        )
