"""The Plait benchmark app served by an earlier Plait (``run.py --baseline REV``), for side-by-side comparisons.

The harness exports the earlier commit's ``src/`` and names it in ``BENCH_PLAIT_BASELINE``; putting it first on
``sys.path`` makes ``import plait`` load that version while the endpoints stay exactly those of ``plait_app``.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.environ["BENCH_PLAIT_BASELINE"])

# plait must resolve to the baseline first, so this import follows the path change.
from plait_app import app, mw_app

__all__ = ["app", "mw_app"]
