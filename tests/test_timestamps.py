from datetime import datetime, timedelta, timezone

import pytest

from act_connector.timestamps import format_utc, parse_timestamp


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2025-07-26T18:46:00+00:00", "2025-07-26T18:46:00Z"),  # as Act! sends it
        ("2025-07-26T18:46:00Z", "2025-07-26T18:46:00Z"),  # as the state keeps it
        ("2025-07-26T18:46:00z", "2025-07-26T18:46:00Z"),
        ("2025-07-26T20:46:00+02:00", "2025-07-26T18:46:00Z"),
        ("2025-07-26T13:46:00-0500", "2025-07-26T18:46:00Z"),  # offset without its colon
        ("2025-07-26T20:46:00+02", "2025-07-26T18:46:00Z"),
        ("2025-07-26T18:46:00.1234567+00:00", "2025-07-26T18:46:00.123456Z"),  # .NET's 7 digits
        ("2025-07-26T18:46:00.25Z", "2025-07-26T18:46:00.250000Z"),
        ("2025-07-26T18:46", "2025-07-26T18:46:00Z"),
        ("2025-07-26 18:46:00", "2025-07-26T18:46:00Z"),  # no offset: UTC
        ("2025-07-26", "2025-07-26T00:00:00Z"),
        (" 2025-07-26T18:46:00Z ", "2025-07-26T18:46:00Z"),
        ("9999-12-31T00:00:00+00:00", "9999-12-31T00:00:00Z"),  # an open opportunity
        # .NET's "no date" sentinels that leave the range once moved to UTC are kept at its edge
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:00:00-05:00", "9999-12-31T23:59:59.999999Z"),
    ],
)
def test_every_iso_8601_form_on_every_supported_python(text, utc):
    """The project supports Python 3.10, whose fromisoformat reads none of Z, -0500 or 7 digits."""
    assert format_utc(parse_timestamp(text)) == utc


@pytest.mark.parametrize(
    "text", ["", "next week", "2024-13-01", "2024-01-01T25:00:00Z", "2024-01-01T00:00:00+2"]
)
def test_what_is_not_a_timestamp_is_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_offsets_are_kept_until_formatted():
    moment = parse_timestamp("2025-07-26T20:46:00+02:00")
    assert moment.utcoffset() == timedelta(hours=2)
    assert moment == datetime(2025, 7, 26, 18, 46, tzinfo=timezone.utc)
