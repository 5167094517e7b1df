class ConfigError(Exception):
    """Bad input from the user: the message says what is wrong and how to fix it.

    The command line prints it as one line and exits non-zero, without a traceback.
    """


def one_line(error: BaseException) -> str:
    """`error`'s message as one line. An error raised in a DataLoader worker comes back with
    the worker's traceback in its message (torch's way of re-raising it): its own message is
    the traceback's last line."""
    text = str(error)
    if "\nOriginal Traceback" in text:
        text = text.rstrip().splitlines()[-1].split(": ", 1)[-1]
    return " ".join(text.split())


def quoted(names) -> str:
    """`'berries, red', 'cat'`: names in a message, each quoted, so that a name with a comma
    reads as one."""
    return ", ".join(f"'{name}'" for name in names)


class JobFailed(Exception):
    """A job of a sweep that did not finish, with the one line that says why: the sweep goes
    on to its other jobs and lists the failed ones at its end (hydra_plugins' sweeper)."""
