"""One spelling for what users type and what files store: paths as a shell would read them, and
class names in one Unicode form."""

import os
import unicodedata


def expand(path: str | None) -> str | None:
    """`~` and environment variables ($HOME, ${DATA}) in a path setting, as a shell would."""
    return None if path is None else os.path.expandvars(os.path.expanduser(str(path)))


def class_name(name: str) -> str:
    """A class's name as compared and shown: Unicode's composed form (NFC), the form typed on
    a keyboard, whichever form a file system or a file stored it in (macOS writes folder names
    decomposed: "crème" as "cre\\u0300me")."""
    return unicodedata.normalize("NFC", name)
