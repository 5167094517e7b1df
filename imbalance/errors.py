class ConfigError(Exception):
    """Bad input from the user: the message says what is wrong and how to fix it.

    The command line prints it as one line and exits non-zero, without a traceback.
    """


def quoted(names) -> str:
    """`'berries, red', 'cat'`: names in a message, each quoted, so that a name with a comma
    reads as one."""
    return ", ".join(f"'{name}'" for name in names)
