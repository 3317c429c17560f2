from platform_streams.runtime.isolation import handle_isolating_failures


def doubler(batch):
    out = []
    for value in batch:
        if value < 0:
            raise ValueError(f"negative: {value}")
        out.append(value * 2)
    return out


def test_whole_batch_when_nothing_fails() -> None:
    calls = []

    def handler(batch):
        calls.append(len(batch))
        return doubler(batch)

    outputs, failures = handle_isolating_failures(handler, [1, 2, 3])
    assert outputs == [2, 4, 6]
    assert failures == []
    assert calls == [3]


def test_bad_messages_are_isolated_and_the_rest_flow() -> None:
    outputs, failures = handle_isolating_failures(doubler, [1, -2, 3, -4])
    assert outputs == [2, 6]
    assert [(m, str(e)) for m, e in failures] == [(-2, "negative: -2"), (-4, "negative: -4")]


def test_single_message_failure() -> None:
    outputs, failures = handle_isolating_failures(doubler, [-1])
    assert outputs == []
    assert failures[0][0] == -1
