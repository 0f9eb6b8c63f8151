"""The one exception type nncore raises for anything the user got wrong."""


class NNCoreError(ValueError):
    """Bad input: layer sizes, data, options, a plan file, or a diverging run.

    The message is one line meant for the user; callers print it (command line)
    or report it (Blender operator) without a traceback.
    """
