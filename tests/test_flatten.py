from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from act_connector.flatten import COERCERS, SEPARATOR, Flattener, Unfit

UTC = timezone.utc


def test_nested_objects_become_underscore_columns_arrays_stay_whole_and_nulls_are_left_out():
    """A null is left out of the row: an upsert lands every column it does not carry as null."""
    record = {
        "id": "c1",
        "businessAddress": {"city": "Zürich", "latitude": 47.37, "line3": None},
        "customFields": {"user4": "", "email__y_n": "Y"},
        "stage": {"name": "Stage 2", "process": {"id": "p1", "stages": None}},
        "contacts": [{"id": "x", "displayName": "José"}],
        "groups": [],
        "middleName": "",
    }
    assert Flattener({"businessAddress_latitude": "DOUBLE"}).row(record) == {
        "id": "c1",
        "businessAddress_city": "Zürich",
        "businessAddress_latitude": 47.37,
        "customFields_user4": "",
        "customFields_email__y_n": "Y",
        "stage_name": "Stage 2",
        "stage_process_id": "p1",
        "contacts": [{"id": "x", "displayName": "José"}],
        "groups": [],
        "middleName": "",
    }


def test_timestamps_become_utc_datetimes():
    names = ("edited", "created", "birthday", "actualCloseDate", "recurSpec_seriesEnd", "due")
    flattener = Flattener(dict.fromkeys(names, "UTC_DATETIME"))
    row = flattener.row(
        {
            "edited": "2025-07-26T18:46:00+00:00",
            "created": "2025-07-26T20:46:00+02:00",
            "birthday": "1980-05-04T00:00:00",  # no offset: taken as UTC
            "actualCloseDate": "9999-12-31T00:00:00+00:00",
            "recurSpec": {"seriesEnd": "2025-01-01T00:00:00.250-05:00"},
            "due": "0001-01-01T00:00:00+01:00",  # .NET's "no date", out of range in UTC
        }
    )
    assert row == {
        "edited": datetime(2025, 7, 26, 18, 46, tzinfo=UTC),
        "created": datetime(2025, 7, 26, 18, 46, tzinfo=UTC),
        "birthday": datetime(1980, 5, 4, tzinfo=UTC),
        "actualCloseDate": datetime(9999, 12, 31, tzinfo=UTC),
        "recurSpec_seriesEnd": datetime(2025, 1, 1, 5, 0, 0, 250000, tzinfo=UTC),
        "due": datetime.min.replace(tzinfo=UTC),
    }
    assert all(value.tzinfo is UTC for value in row.values())


def test_unreadable_timestamps_are_counted_not_silently_dropped():
    flattener = Flattener({"lastEmail": "UTC_DATETIME", "lastReach": "UTC_DATETIME"})
    row = flattener.row({"lastEmail": "next week", "lastReach": ""})
    assert row == {}  # both land as null
    assert flattener.unfit == {"lastEmail": 1}


def test_undeclared_floats_keep_every_digit():
    row = Flattener({"revenue": "DOUBLE"}).row(
        {"revenue": 4446.71, "customFields": {"value": 4446.71}}
    )
    assert row == {"revenue": 4446.71, "customFields_value": Decimal("4446.71")}
    assert type(row["revenue"]) is float


@pytest.mark.parametrize(
    ("kind", "sent", "landed"),
    [
        ("INT", "", None),
        ("INT", "  ", None),
        ("INT", "42", 42),
        ("INT", " 42 ", 42),
        ("INT", "42.0", 42),
        ("INT", 42.0, 42),
        ("INT", True, 1),
        ("LONG", "9007199254740993", 9007199254740993),
        ("DOUBLE", "", None),
        ("DOUBLE", "150000.00", 150000.0),
        ("DOUBLE", 3, 3.0),
        ("DOUBLE", "1e3", 1000.0),
        ("DECIMAL", "", None),
        ("DECIMAL", "150000.00", "150000.00"),
        ("DECIMAL", 4446.71, "4446.71"),
        ("DECIMAL", 12, 12),
        ("BOOLEAN", "", None),
        ("BOOLEAN", "true", True),
        ("BOOLEAN", "True", True),
        ("BOOLEAN", "false", False),
        ("BOOLEAN", "yes", True),
        ("BOOLEAN", "No", False),
        ("BOOLEAN", "1", True),
        ("BOOLEAN", "0", False),
        ("BOOLEAN", 1, True),
        ("BOOLEAN", 0, False),
        ("STRING", 3, 3),  # Act!'s integer status in a text column: the SDK writes "3"
        ("STRING", ["a", "b"], '["a", "b"]'),
        ("STRING", {"id": "x"}, None),  # an object is flattened, never coerced: see below
    ],
)
def test_values_are_coerced_to_their_declared_type(kind, sent, landed):
    flattener = Flattener({"value": kind})
    row = flattener.row({"value": sent})
    if isinstance(sent, dict):
        assert row == {"value_id": "x"}
    else:
        assert row.get("value") == landed  # None: left out, so it lands as null
        assert type(row.get("value")) is type(landed)
    assert not flattener.unfit


@pytest.mark.parametrize(
    ("kind", "sent"),
    [
        ("INT", "abc"),
        ("INT", "4.5"),
        ("INT", 4.5),
        ("INT", "99999999999"),  # beyond a 32-bit column
        ("INT", [1]),
        ("DOUBLE", "1,5"),
        ("DOUBLE", [1.5]),
        ("DECIMAL", "twelve"),
        ("DECIMAL", "NaN"),
        ("DECIMAL", True),
        ("BOOLEAN", "maybe"),
        ("BOOLEAN", [True]),
        ("UTC_DATETIME", "next week"),
        ("UTC_DATETIME", 1700000000),
    ],
)
def test_a_value_that_cannot_fit_lands_null_and_is_counted(kind, sent):
    flattener = Flattener({"value": kind, "other": "INT"})
    assert flattener.row({"value": sent, "other": 7}) == {"other": 7}  # "value" lands null
    assert flattener.unfit == {"value": 1}


def test_one_report_names_every_column_that_did_not_fit():
    flattener = Flattener({"amaScore": "INT", "isFavorite": "BOOLEAN"})
    for _ in range(3):
        flattener.row({"amaScore": "n/a", "isFavorite": "maybe"})
    flattener.row({"amaScore": "n/a", "isFavorite": True})
    assert flattener.report("contacts") == (
        "Table 'contacts': 7 value(s) did not fit their column's type and landed as null: "
        "amaScore (INT) 4, isFavorite (BOOLEAN) 3. The rest of each row landed as sent."
    )
    assert Flattener({"amaScore": "INT"}).report("contacts") is None


def two_passes(columns: dict[str, str], record: dict) -> tuple[dict, Counter]:
    """The row and unfit counts as a record flattened first, then coerced column by column: the
    definition the one-pass Flattener keeps to."""
    flat: dict = {}

    def into(prefix: str, nested: dict) -> None:
        for key, value in nested.items():
            name = prefix + key
            if isinstance(value, dict):
                into(name + SEPARATOR, value)
            elif type(value) is float and name not in columns:
                flat[name] = Decimal(repr(value))
            else:
                flat[name] = value

    into("", record)
    unfit: Counter = Counter()
    for name, value in flat.items():
        if value is not None and columns.get(name) in COERCERS:
            try:
                flat[name] = COERCERS[columns[name]](value)
            except (Unfit, OverflowError):
                flat[name], unfit[name] = None, unfit[name] + 1
    return {name: value for name, value in flat.items() if value is not None}, unfit


# A few names, so that nested keys and top-level keys meet ("a" + "_" + "b" is also "a_b").
NAMES = st.sampled_from(["a", "b", "a_b", "b_a", "edited"])
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from(["", " ", "0", "-1", "yes", "4.5", "1e3", "NaN", "99999999999", "12 "]),
    st.sampled_from(["2025-07-26T18:46:00-07:00", " 2024-01-01 ", "2024-13-01", "next week"]),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)
RECORDS = st.recursive(
    st.dictionaries(NAMES, LEAVES, max_size=5),
    lambda children: st.dictionaries(NAMES, st.one_of(LEAVES, children), max_size=5),
    max_leaves=12,
)
COLUMNS = st.dictionaries(
    st.sampled_from(["a", "b", "a_b", "b_a", "edited", "a_a", "b_b"]),
    st.sampled_from([*COERCERS, "JSON", "NAIVE_DATE"]),
)


@settings(max_examples=500, deadline=None)
@given(columns=COLUMNS, records=st.lists(RECORDS, max_size=3))
# A name met twice: only the value that lands is counted when it does not fit.
@example(columns={"a_b": "INT"}, records=[{"a": {"b": "x"}, "a_b": 1}])
@example(columns={"a_b": "INT"}, records=[{"a_b": 1, "a": {"b": "x"}}])
@example(columns={"a_b": "INT"}, records=[{"a": {"b": "x"}, "a_b": "y"}])
def test_one_pass_gives_the_row_and_counts_of_flattening_then_coercing(columns, records):
    flattener, expected_unfit = Flattener(columns), Counter()
    for record in records:
        expected, unfit = two_passes(columns, record)
        row = flattener.row(record)
        assert set(row) == set(expected)
        for name, value in expected.items():  # NaN is not equal to itself: compare its repr
            assert type(row[name]) is type(value) and repr(row[name]) == repr(value)
        expected_unfit += unfit
    assert flattener.unfit == expected_unfit


def test_an_empty_key_of_another_record_lands_as_null():
    """Act! sends companyID "" for a contact of no company: an empty id is no id."""
    flattener = Flattener({"companyID": "STRING", "company": "STRING"}, keys=("companyID",))
    assert flattener.row({"companyID": "", "company": ""}) == {"company": ""}
    assert flattener.row({"companyID": " c1 "})["companyID"] == "c1"
