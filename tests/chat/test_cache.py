"""The one-machine file cache stays bounded without listing its directory on
every write."""

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
