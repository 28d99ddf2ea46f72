"""Plait's benchmark harness: the same endpoints in each framework, on the same server, side by side.

``python3 benchmarks/run.py --help`` (or ``make bench`` / ``make bench-quick``) is the way in.
Only the standard library is imported until the harness runs inside the peers venv.
"""
