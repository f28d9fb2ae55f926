"""Test-only: the write paths without their ordering guarantee, to show that
the concurrency tests catch its absence (tests/concurrency/test_delivery.py
and test_changes.py).

Never installed by config.settings; only by tests.concurrency.unguarded.settings.
"""
