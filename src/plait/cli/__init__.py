"""The ``plait`` command line: ``plait run``, ``plait serve``, ``plait routes``, ``plait version``.

>>> from plait.cli import main
>>> main(["version"], standalone_mode=False)  # doctest: +SKIP
"""

from plait.cli.main import main

__all__ = ["main"]
