class ConfigError(Exception):
    """Bad input from the user: the message says what is wrong and how to fix it.

    The command line prints it as one line and exits non-zero, without a traceback.
    """
