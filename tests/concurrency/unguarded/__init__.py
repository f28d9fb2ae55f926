"""Test-only: the send path without its ordering guarantees, to show that the
concurrency test catches their absence (tests/concurrency/test_delivery.py).

Never installed by config.settings; only by tests.concurrency.unguarded.settings.
"""
