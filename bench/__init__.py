"""``make bench``: Flusk's services side by side with the apps a user would write instead.

Run with ``python -m bench`` from the repository root (``make bench``, ``make bench quick=1``).
"""
