"""The one-machine file cache stays bounded without listing its directory on
every write, and counts (add, incr) as Redis does."""

import pickle

import pytest

from chat.cache import FileCache


def test_culls_now_and_then_not_on_every_write(tmp_path, monkeypatch):
    monkeypatch.setattr(FileCache, "CULL_EVERY", 50)
    cache = FileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 20}})
    listings = []
    original = FileCache._list_cache_files

    def counted(self):
        listings.append(1)
        return original(self)

    monkeypatch.setattr(FileCache, "_list_cache_files", counted)
    for i in range(100):
        cache.set(f"key-{i}", i, 60)

    assert len(listings) == 2  # at the 50th and 100th write, not 100 times
    assert len(list(tmp_path.glob("*.djcache"))) < 100  # and it did cull
    assert cache.get("key-99") == 99


def test_incr_keeps_the_expiry_and_refuses_a_missing_or_expired_key(tmp_path):
    """As Redis counts: a count keeps the expiry add() gave it (the window's
    length), rather than the default timeout."""
    cache = FileCache(str(tmp_path), {})
    cache.add("count", 1, timeout=5)
    [entry] = tmp_path.glob("*.djcache")
    with entry.open("rb") as f:
        expiry = pickle.load(f)
    assert cache.incr("count") == 2
    assert cache.incr("count", 3) == 5
    assert cache.get("count") == 5
    with entry.open("rb") as f:
        assert pickle.load(f) == expiry
    cache.set("gone", 1, timeout=-1)
    for key in ("gone", "never"):
        with pytest.raises(ValueError):
            cache.incr(key)
