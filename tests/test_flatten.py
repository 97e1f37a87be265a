from decimal import Decimal

from act_connector.flatten import Flattener


def test_nested_objects_become_underscore_columns_and_arrays_stay_whole():
    record = {
        "id": "c1",
        "businessAddress": {"city": "Zürich", "latitude": 47.37, "line3": None},
        "customFields": {"user4": "", "email__y_n": "Y"},
        "stage": {"name": "Stage 2", "process": {"id": "p1", "stages": None}},
        "contacts": [{"id": "x", "displayName": "José"}],
        "groups": [],
        "middleName": "",
        "nameSuffix": None,
    }
    assert Flattener({"businessAddress_latitude": "DOUBLE"}).row(record) == {
        "id": "c1",
        "businessAddress_city": "Zürich",
        "businessAddress_latitude": 47.37,
        "businessAddress_line3": None,
        "customFields_user4": "",
        "customFields_email__y_n": "Y",
        "stage_name": "Stage 2",
        "stage_process_id": "p1",
        "stage_process_stages": None,
        "contacts": [{"id": "x", "displayName": "José"}],
        "groups": [],
        "middleName": "",
        "nameSuffix": None,
    }


def test_timestamps_become_utc_iso_8601():
    names = ("edited", "created", "birthday", "actualCloseDate", "recurSpec_seriesEnd")
    flattener = Flattener(dict.fromkeys(names, "UTC_DATETIME"))
    row = flattener.row(
        {
            "edited": "2025-07-26T18:46:00+00:00",
            "created": "2025-07-26T20:46:00+02:00",
            "birthday": "1980-05-04T00:00:00",  # no offset: taken as UTC
            "actualCloseDate": "9999-12-31T00:00:00+00:00",
            "recurSpec": {"seriesEnd": "2025-01-01T00:00:00.250-05:00"},
        }
    )
    assert row == {
        "edited": "2025-07-26T18:46:00Z",
        "created": "2025-07-26T18:46:00Z",
        "birthday": "1980-05-04T00:00:00Z",
        "actualCloseDate": "9999-12-31T00:00:00Z",
        "recurSpec_seriesEnd": "2025-01-01T05:00:00.250000Z",
    }


def test_unreadable_timestamps_are_counted_not_silently_dropped():
    flattener = Flattener({"lastEmail": "UTC_DATETIME", "lastReach": "UTC_DATETIME"})
    row = flattener.row({"lastEmail": "next week", "lastReach": ""})
    assert row == {"lastEmail": None, "lastReach": None}
    assert flattener.unreadable == {"lastEmail": 1}


def test_undeclared_floats_keep_every_digit():
    row = Flattener({"revenue": "DOUBLE"}).row(
        {"revenue": 4446.71, "customFields": {"value": 4446.71}}
    )
    assert row == {"revenue": 4446.71, "customFields_value": Decimal("4446.71")}
    assert type(row["revenue"]) is float
