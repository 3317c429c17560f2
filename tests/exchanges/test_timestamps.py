"""Exchange timestamps → integer nanoseconds, exactly."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.timestamps import TimestampError, iso8601_to_ns, milliseconds_text_to_ns, seconds_text_to_ns


def test_exact_conversions() -> None:
    assert seconds_text_to_ns("1618678133.365913") == 1_618_678_133_365_913_000
    assert seconds_text_to_ns("1617647603.4249449") == 1_617_647_603_424_944_900
    assert seconds_text_to_ns("1618678133") == 1_618_678_133_000_000_000
    assert milliseconds_text_to_ns("1652459225464") == 1_652_459_225_464_000_000
    assert iso8601_to_ns("2021-04-17T16:43:37.075687Z") == 1_618_677_817_075_687_000
    assert iso8601_to_ns("2023-02-09T20:32:50.714964855Z") == 1_675_974_770_714_964_855
    assert iso8601_to_ns("2021-04-17T16:43:37Z") == 1_618_677_817_000_000_000


@pytest.mark.parametrize(
    ("convert", "text"),
    [
        (seconds_text_to_ns, "1618678133.3659131234"),
        (seconds_text_to_ns, "-1.5"),
        (seconds_text_to_ns, "1e9"),
        (milliseconds_text_to_ns, "16524592254.64"),
        (iso8601_to_ns, "2021-04-17T16:43:37.075687"),
        (iso8601_to_ns, "2021-13-17T16:43:37Z"),
        (iso8601_to_ns, "2021-04-17T16:43:37.x5Z"),
    ],
)
def test_malformed_times_are_refused(convert: object, text: str) -> None:
    with pytest.raises(TimestampError):
        convert(text)  # type: ignore[operator]
