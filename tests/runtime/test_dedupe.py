from platform_streams.runtime.dedupe import Deduplicator


def test_each_id_passes_once() -> None:
    dedupe = Deduplicator()
    assert [dedupe.first_time(i) for i in ["a", "b", "a", "c", "b"]] == [True, True, False, True, False]


def test_capacity_bounds_memory_oldest_forgotten_first() -> None:
    dedupe = Deduplicator(capacity=2)
    dedupe.first_time("a")
    dedupe.first_time("b")
    dedupe.first_time("c")
    assert len(dedupe) == 2
    assert dedupe.first_time("a") is True
    assert dedupe.first_time("c") is False
