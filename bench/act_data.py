"""Benchmark data shaped like a real Act! database, kept apart from the emulator's test data.

Seeded and deterministic, and made one record at a time: `records(seed, sizes)` yields
(table, record) pairs in an order where every record refers only to records already made, so
the floor's rows can be written as they come, never holding a table. References are worked out
from an index (`ident`, `person`), not looked up. What real data has and emulator/data.py mostly
does not: every declared column filled in some rows, both addresses, custom fields of every kind
(text, number, currency, date, yes/no), blank strings beside nulls, time stamps with non-UTC
offsets and milliseconds, floats, booleans and long notes.

`generate(seed, sizes)` collects them for the emulator (`python -m emulator --generator
bench.act_data`), with every table the emulator serves, empty where the benchmark has none.
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

# The slow-server first sync; the other tables as a mid-sized office has them.
SIZES = {
    "contacts": 50_000,
    "companies": 5_000,
    "opportunities": 10_000,
    "activities": 100_000,
    "products": 500,
    "groups": 50,
}
ACTIVITY_TYPES = 12  # Act!'s shipped task types
# Tables the emulator serves that the benchmark leaves empty (not synced by default).
EMPTY_TABLES = ("notes", "history", "recurring_activities", "entities", "custom_projects")
EPOCH = datetime(2023, 1, 1, tzinfo=timezone.utc)
SPAN_SECONDS = 700 * 24 * 3600  # edits spread over the 700 days after EPOCH
# Offsets Act! servers write in: their own zone, not always UTC.
OFFSETS = [timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=1)),
           timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]  # fmt: skip
# Fractional digits a stamp has, and how isoformat writes them; never .NET's 7, which the SDK's
# own parser (and so the floor) refuses.
TIMESPEC = {0: "seconds", 3: "milliseconds", 6: "microseconds"}
OPEN_CLOSE_DATE = "9999-12-31T00:00:00+00:00"  # Act!'s "not closed yet"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")  # how a time stamp begins
FIRST = ["José", "Zoë", "Åsa", "François", "Łukasz", "Søren", "王芳", "Nguyễn", "Aoife", "John",
         "Mary", "Ahmed", "Priya", "Olga", "Chloé", "Björn", "Kenji", "Renée"]  # fmt: skip
LAST = ["O'Brien", "Müller", "García", "Smith", "Дмитриев", "Øvergaard", "Łęcki", "Lee",
        "da Silva", "Nakamura", "Ngô", "Schäfer", "Kowalski", "Dubois", "Taylor"]  # fmt: skip
COMPANY = ["Acme, Inc.", "Brück & Söhne GmbH", 'Café "Les Amis"', "Northwind Traders",
           "Søndergaard A/S", "東京商事", "Initech", "Vandelay Industries"]  # fmt: skip
CITY = ["Scottsdale", "Zürich", "São Paulo", "Kraków", "Reykjavík", "London", "Montréal"]
SENTENCES = [
    'Met at "Expo 2025", discussed pricing, asked for a follow-up next week.',
    "Prefers e-mail; do not call before 10am.\r\nBudget: $12,500 (approved).",
    "Line one\nLine two, with a comma\nLine three «quoted» — and an em dash.",
    "Renewal due in Q3; the account moved to the Zürich office after the merger.",
]
LONG_NOTE_SENTENCES = 40  # a long note: about 2.5 KB, as pasted e-mails are
LONG_NOTE_SHARE = 0.05
# Custom fields of every kind Act! has, per record type: (name, Act! type). Each record type's
# records fill them (customFields), and /api/metadata/fields defines them.
CUSTOM_FIELDS = {
    "Contact": [("user1", "Character"), ("spouse", "Character"), ("seats", "Number"),
                ("score", "Decimal"), ("annual_value", "Currency"), ("last_review", "Date"),
                ("next_call", "DateTime"), ("anniversary", "AnnualEvent"),
                ("newsletter", "YesNo"), ("memo", "Memo")],
    "Company": [("user1", "Character"), ("seats", "Number"), ("credit_limit", "Currency"),
                ("renewal", "Date"), ("key_account", "YesNo")],
    "Opportunity": [("quarter", "Character"), ("margin_goal", "Currency"),
                    ("signed", "Date"), ("approved", "YesNo")],
    "Group": [("region", "Character")],
}  # fmt: skip
# A live contact was seen with 249 custom fields, many always null, numbers and currency as text
# (FACTS.md). With sizes' "contact_custom_fields" (the wide scenario) contacts have that many:
# the ten above and more of these kinds, each filled in a few records only.
CONTACT_CUSTOM_FIELDS = "contact_custom_fields"
WIDE_KINDS = ("Character", "Number", "Currency", "Date", "YesNo")
WIDE_FILLED = 0.15
# Contacts as a live server sends them (issue 28; sizes' "contact_columns" gives how many): of
# the ~96 columns a contact flattens to, each record carries about that many, the rest absent
# rather than null (a live contact had 249 custom fields, most empty, and leaves unset fields
# out); a few present values null; time stamps in whole seconds and "+00:00". These always come.
CONTACT_COLUMNS = "contact_columns"
LIVE_ALWAYS = ("id", "created", "edited", "editedBy", "recordManager", "recordManagerID",
               "firstName", "lastName", "fullName", "emailAddress", "isUser", "isPrivate",
               "contactType")  # fmt: skip
LIVE_NULL_SHARE = 0.03
PROCESSES = {
    "b2c2f1d4-0000-4000-8000-000000000001": ("Standard Sales", [10, 25, 50, 75, 90]),
    "b2c2f1d4-0000-4000-8000-000000000002": ("Renewal", [30, 60, 95]),
}
USERS = ["John Hollo", "Chris Huffman", "Aiko Tanaka", "Renée Lefèvre", "Sarah O'Connor"]


def ident(seed: int, table: str, index: int) -> str:
    """The GUID of a table's index-th record: any record can name another without holding it."""
    digest = hashlib.md5(f"{seed}:{table}:{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def person(index: int) -> tuple[str, str]:
    """The index-th contact's first and last names."""
    return FIRST[index % len(FIRST)], LAST[index // len(FIRST) % len(LAST)]


def company_name(index: int) -> str:
    return f"{COMPANY[index % len(COMPANY)]} {index}"


def scaled(sizes: dict[str, int], scale: float) -> dict[str, int]:
    """The sizes times `scale`, each table keeping at least one record."""
    return {table: max(1, round(count * scale)) for table, count in sizes.items()}


class Maker:
    """One table's random stream, and the kinds of values Act! sends."""

    def __init__(self, seed: int, table: str):
        self.seed, self.rng = seed, random.Random(f"{seed}:{table}")

    def maybe(self, value, blank=""):
        """The value, or unset: Act! sends both "" and null for unset text."""
        roll = self.rng.random()
        return value if roll < 0.7 else (blank if roll < 0.85 else None)

    def stamp(self, digits: int | None = None) -> str:
        """A moment as Act! writes it: in some server's zone, whole seconds or with a fraction."""
        moment = EPOCH + timedelta(seconds=self.rng.randrange(SPAN_SECONDS),
                                   microseconds=self.rng.randrange(10**6))  # fmt: skip
        digits = self.rng.choice(list(TIMESPEC)) if digits is None else digits
        return moment.astimezone(self.rng.choice(OFFSETS)).isoformat(timespec=TIMESPEC[digits])

    def times(self) -> dict:
        """When and by whom: the fields that close every editable record."""
        return {"created": self.stamp(), "edited": self.stamp(), "editedBy": self.user(),
                "recordManager": self.user()}  # fmt: skip

    def user(self) -> str:
        return self.rng.choice(USERS)

    def user_id(self) -> str:
        return ident(self.seed, "users", self.rng.randrange(len(USERS)))

    def note(self) -> str | None:
        """Free text: a sentence, a long note, blank or null."""
        roll = self.rng.random()
        if roll < LONG_NOTE_SHARE:
            return " ".join(self.rng.choices(SENTENCES, k=LONG_NOTE_SENTENCES))
        return self.maybe(self.rng.choice(SENTENCES))

    def address(self) -> dict:
        return {
            "line1": f"{self.rng.randrange(1, 999)} Bahnhofstraße",
            "line2": self.maybe("Suite 100"),
            "line3": self.maybe("c/o Reception", None),
            "city": self.rng.choice(CITY),
            "state": self.maybe("AZ"),
            "postalCode": f"{self.rng.randrange(10000, 99999)}",
            "country": self.rng.choice(["United States", "Schweiz", "Brasil", "Polska"]),
            "latitude": self.maybe(round(self.rng.uniform(-60, 60), 6), None),
            "longitude": self.maybe(round(self.rng.uniform(-150, 150), 6), None),
        }

    def custom_fields(self, record_type: str, size: dict | None = None) -> dict:
        values = {name: self.custom_value(kind) for name, kind in CUSTOM_FIELDS[record_type]}
        for name, kind in wide_fields(record_type, size or {}):
            values[name] = self.sparse_value(kind)
        return values

    def sparse_value(self, kind: str):
        """A field most records leave empty; numbers and currency as text, as a live one."""
        if self.rng.random() >= WIDE_FILLED:
            return None
        if kind in ("Number", "Currency"):
            return f"{self.rng.uniform(0, 2e5):.2f}"
        return self.custom_value(kind)

    def custom_value(self, kind: str):
        """A value of an Act! field type as the API sends it, blank or null at times."""
        rng = self.rng
        if kind in ("Date", "DateTime", "AnnualEvent"):
            return self.maybe(self.stamp(0 if kind != "DateTime" else 3))
        if kind == "YesNo":
            return self.maybe(rng.random() < 0.5, None)
        if kind == "Number":
            return self.maybe(rng.randrange(0, 5000), None)
        if kind in ("Currency", "Decimal"):
            return self.maybe(round(rng.uniform(0, 1e6), 2), None)
        return self.note() if kind == "Memo" else self.maybe(f"Value {rng.randrange(100)}")

    def embedded(self, table: str, count: int, size: int) -> list[dict]:
        """Records of another table as a record embeds them (id and display name)."""
        chosen = self.rng.sample(range(size), min(size, count))
        return [{"id": ident(self.seed, table, i), "displayName": display(table, i)}
                for i in chosen]  # fmt: skip


def wide_fields(record_type: str, size: dict) -> list[tuple[str, str]]:
    """The custom fields a record type has beyond CUSTOM_FIELDS (contacts', when wide)."""
    wanted = size.get(CONTACT_CUSTOM_FIELDS, 0) if record_type == "Contact" else 0
    extra = max(0, wanted - len(CUSTOM_FIELDS[record_type]))
    return [(f"field_{n}", WIDE_KINDS[n % len(WIDE_KINDS)]) for n in range(1, extra + 1)]


def display(table: str, index: int) -> str:
    if table == "contacts":
        return " ".join(person(index))
    if table == "companies":
        return company_name(index)
    return f"{table.title()} {index}"


def records(seed: int, sizes: dict[str, int]) -> Iterator[tuple[str, dict]]:
    """Every record of the benchmark database, table by table, referred-to tables first."""
    size = {**dict.fromkeys(SIZES, 0), **sizes}
    yield from reference_records(seed, size)
    products = [product(Maker(seed, "products"), seed, i) for i in range(size["products"])]
    yield from (("products", record) for record in products)
    for table, make_one in (("companies", company), ("groups", group)):
        make = Maker(seed, table)
        yield from ((table, make_one(make, i)) for i in range(size[table]))
    make = Maker(seed, "contacts")
    yield from (("contacts", contact(make, i, size)) for i in range(size["contacts"]))
    yield from memberships(Maker(seed, "group_contacts"), size)
    make = Maker(seed, "opportunities")
    for i in range(size["opportunities"]):
        record = opportunity(make, i, size)
        yield "opportunities", record
        yield from (("opportunity_products", item) for item in line_items(make, record, products))
    make = Maker(seed, "activities")
    yield from (("activities", activity(make, i, size)) for i in range(size["activities"]))


def generate(seed: int, sizes: dict[str, int]) -> dict[str, list[dict]]:
    """The whole database, as the emulator holds it."""
    data: dict[str, list[dict]] = {table: [] for table in EMPTY_TABLES}
    for table, record in records(seed, sizes):
        data.setdefault(table, []).append(record)
    return data


def reference_records(seed: int, size: dict) -> Iterator[tuple[str, dict]]:
    """Users, sales processes and stages, task and history types, field definitions."""
    make = Maker(seed, "reference")
    for i, name in enumerate(USERS):
        first, _, last = name.partition(" ")
        yield "users", {"id": ident(seed, "users", i), "username": name,
                        "role": ["Administrator", "Manager", "Standard"][i % 3],
                        "displayName": name, "email": f"user{i}@example.com", "firstName": first,
                        "lastName": last, "status": "Active",
                        "lastLogOnDate": make.stamp()}  # fmt: skip
    for process_id, (_, chances) in PROCESSES.items():
        yield "opportunity_processes", process(process_id)
        for number, chance in enumerate(chances, 1):
            yield "opportunity_stages", stage(process_id, number, chance)
    for number in range(1, ACTIVITY_TYPES + 1):
        kind = task_type(make, number)
        yield "activity_types", kind
        # MetaData.TypeCodes.HistoryType: the activity type's id as text, and four flags
        history = kind["historyTypes"][0]
        yield "history_types", {"id": history["id"], "name": history["name"],
                                "activityTypeId": str(number), "activityTypeName": kind["name"],
                                "description": history["description"], "isActive": True,
                                "isCustom": number > 8, "isDefault": history["isDefault"],
                                "isUserRecordable": True}  # fmt: skip
    number = 0
    for record_type, fields in CUSTOM_FIELDS.items():
        for name, kind in fields + wide_fields(record_type, size):
            number += 1
            yield "fields", field_definition(number, record_type, name, kind)


def process(process_id: str) -> dict:
    """A sales process, with its stages listed by id and number."""
    name, count = PROCESSES[process_id][0], len(PROCESSES[process_id][1])
    return {"id": process_id, "name": name, "description": f"{name} process",
            "status": "Active", "stagesCount": count,
            "stages": [{"id": stage_id(process_id, n), "number": n}
                       for n in range(1, count + 1)]}  # fmt: skip


def stage_id(process_id: str, number: int) -> str:
    return f"5747a6e0-{process_id[-4:]}-4000-8000-{number:012d}"


def stage(process_id: str, number: int, chance: int) -> dict:
    return {"id": stage_id(process_id, number), "name": f"{PROCESSES[process_id][0]} {number}",
            "description": "", "probability": chance, "number": number,
            "process": process(process_id)}  # fmt: skip


def task_type(make: Maker, number: int) -> dict:
    return {
        "id": number, "name": f"Type {number}", "description": make.maybe("Shipped with Act!"),
        "isActive": True, "isCustom": number > 8, "isDeletable": number > 8,
        "taskTypeGuid": ident(make.seed, "activity_types", number),
        "historyTypes": [{"id": number * 100 + 1, "name": f"Type {number} completed",
                          "description": "", "clearType": "COMPLETED", "isDefault": True}],
        "defaultPreferences": {"priority": 1, "reminder": 15, "duration": 30,
                               "isAllDayEvent": number % 2 == 0, "autoRollover": False,
                               "color": "#5B9BD5", "taskDropDownFields": ["Regarding"]},
    }  # fmt: skip


def field_definition(number: int, record_type: str, name: str, kind: str) -> dict:
    """A MetaData.Schema.Column, every property the vendor defines, with a PickListInfo."""
    display = name.replace("_", " ").title()
    picklist = {"id": f"9a1c0000-0000-4000-8000-{number:012d}", "name": name,
                "description": "Levels", "isLimitToList": True, "isMultiSelect": False,
                "isTypeAhead": True, "showDescription": False}  # fmt: skip
    return {
        "id": f"f1e1d000-0000-4000-8000-{number:012d}", "name": name, "columnName": name,
        "recordType": record_type, "aliasName": display, "columnType": kind,
        "displayName": display, "tableName": f"TBL_{record_type.upper()}", "type": kind,
        "dataType": kind, "virtualId": None if number % 7 else "v1",
        "virtualType": None if number % 7 else "Lookup", "virtualObject": None if number % 7
        else "Company", "virtualField": None if number % 7 else "name",
        "length": 128, "minimumLength": 0, "precision": 19 if kind == "Currency" else 0,
        "scale": 4 if kind == "Currency" else 0, "minValue": "0" if kind == "Number" else None,
        "maxValue": "100000" if kind == "Number" else None, "defaultValue": "",
        "fieldFormat": "#,##0.00" if kind == "Currency" else None, "formula": None if number % 5
        else "[a]+[b]", "calcDisplay": None if number % 5 else "Number",
        "isAllowBlank": True, "isCustom": True, "isDefinedField": False, "isDisplayed": True,
        "isNullable": True, "isPrimary": False, "isProtected": False, "isReadOnly": False,
        "isTracked": number % 3 == 0, "isVirtual": number % 7 == 0,
        "createDate": "2019-03-04T10:00:00+00:00", "editDate": "2024-05-06T07:08:09+00:00",
        "changeEvent": None if number % 4 else "OnChange", "enterEvent": None if number % 4
        else "OnEnter", "leaveEvent": None if number % 4 else "OnLeave",
        "picklist": picklist if name == "user1" else None,
    }  # fmt: skip


def product(make: Maker, seed: int, index: int) -> dict:
    return {"id": ident(seed, "products", index), "name": f"Gerät {index}",
            "cost": round(make.rng.uniform(1, 500), 2), "createDate": make.stamp(),
            "editDate": make.stamp(), "itemNumber": f"SKU-{index:05d}",
            "price": round(make.rng.uniform(5, 900), 2)}  # fmt: skip


def phones(make: Maker) -> dict:
    fields = {}
    for kind in ("business", "mobile", "fax", "home", "alternate", "pager"):
        number = make.maybe(f"+1 480 555 {make.rng.randrange(1000, 9999)}")
        fields[f"{kind}Phone"] = number
        fields[f"{kind}Extension"] = make.maybe(str(make.rng.randrange(10, 99)))
        fields[f"{kind}CountryCode"] = 1 if number else None
        fields[f"{kind}MaskFormat"] = "(###) ###-####"
    return fields


def contact(make: Maker, index: int, size: dict) -> dict:
    rng, (first, last) = make.rng, person(index)
    employed = size["companies"] and rng.random() < 0.8
    employer = rng.randrange(size["companies"]) if employed else None
    record = {
        "id": ident(make.seed, "contacts", index),
        "idStatus": rng.choice(["Customer", "Prospect", ""]),
        "isUser": rng.random() < 0.01,
        "company": company_name(employer) if employer is not None else "",
        "department": make.maybe("Sales"),
        "companyID": ident(make.seed, "companies", employer) if employer is not None else "",
        "contactType": "Contact", "namePrefix": make.maybe("Dr."), "firstName": first,
        "middleName": make.maybe("Ä."), "lastName": last, "nameSuffix": make.maybe("Jr.", None),
        "fullName": f"{first} {last}", "isFavorite": rng.random() < 0.1,
        "isImported": rng.random() < 0.2, "importDate": make.maybe(make.stamp(), None),
        "isPrivate": rng.random() < 0.05, "acl": "", "lastResults": make.note(),
        "lastEmail": make.stamp(), "lastAttempt": make.maybe(make.stamp(), None),
        "lastReach": make.stamp(), "lastMeeting": make.maybe(make.stamp(), None),
        "lastLetterSent": make.maybe(make.stamp(), None), "messengerID": make.maybe("skype:me"),
        "referredBy": make.maybe("Web"), "salutation": first,
        "jobTitle": make.maybe("Head of Purchasing"), "amaScore": rng.randrange(0, 100),
        "emailAddress": f"contact{index}@example.com",
        "altEmailAddress": make.maybe(f"alt{index}@example.org"),
        "personalEmailAddress": make.maybe(f"me{index}@example.net", None),
        "website": make.maybe("https://example.com"), "birthday": make.maybe(make.stamp(0), None),
        "businessAddress": make.address(), **phones(make), "homeAddress": make.address(),
        "aemOptOut": rng.random() < 0.1, "aemBounceBack": rng.random() < 0.02,
        "recordManagerID": make.user_id(), "quickbooksId": make.maybe("QB-17", None),
        "nylasContactId": make.maybe("nylas-1"), "recordOwner": make.user(),
        "customFields": make.custom_fields("Contact", size), **make.times(),
    }  # fmt: skip
    return live(make, record, size[CONTACT_COLUMNS]) if size.get(CONTACT_COLUMNS) else record


def live(make: Maker, record: dict, present: int) -> dict:
    """The record as a live server sends it: about `present` of its columns, picked at random
    from those it has a value for (LIVE_ALWAYS always), the rest absent; a few nulls; stamps in
    whole seconds, "+00:00"."""
    leaves = list(leaves_of(record))
    always = [n for n, (path, _) in enumerate(leaves) if path[0] in LIVE_ALWAYS]
    optional = [n for n, (path, value) in enumerate(leaves)
                if path[0] not in LIVE_ALWAYS and value != "" and value is not None]  # fmt: skip
    wanted = min(len(optional), max(0, present - len(always)))
    shaped: dict = {"customFields": {}}
    for n in sorted(always + make.rng.sample(optional, wanted)):
        path, value = leaves[n]
        if path[0] not in LIVE_ALWAYS and make.rng.random() < LIVE_NULL_SHARE:
            value = None
        elif isinstance(value, str) and STAMP.match(value):
            value = whole_utc(value)
        into = shaped
        for key in path[:-1]:
            into = into.setdefault(key, {})
        into[path[-1]] = value
    return shaped


def leaves_of(nested: dict, path: tuple = ()):
    """(path, value) of every value not an object, nested objects walked."""
    for key, value in nested.items():
        if isinstance(value, dict):
            yield from leaves_of(value, (*path, key))
        else:
            yield (*path, key), value


def whole_utc(stamp: str) -> str:
    moment = datetime.fromisoformat(stamp).astimezone(timezone.utc).replace(microsecond=0)
    return moment.isoformat()


def company(make: Maker, index: int) -> dict:
    rng = make.rng
    return {
        "id": ident(make.seed, "companies", index), "name": company_name(index),
        "address": make.address(), "billingAddress": make.address(),
        "description": make.note(), "division": make.maybe("North"),
        "fax": make.maybe("+1 480 555 0100"), "faxExtension": make.maybe("7"),
        "hasDivisions": rng.random() < 0.1, "hierarchyLevel": rng.randrange(0, 3),
        "idStatus": "Customer", "importDate": make.maybe(make.stamp(), None),
        "industry": make.maybe("Manufacturing"), "isPrivate": False, "acl": "",
        "numberOfEmployees": rng.randrange(1, 5000),
        "rootParentID": make.maybe(ident(make.seed, "companies", 0), None),
        "parentID": make.maybe(ident(make.seed, "companies", 0), None),
        "phone": "+1 480 555 0199", "phoneExtension": make.maybe("12"),
        "referredBy": make.maybe("Partner", None), "region": make.maybe("EMEA"),
        "revenue": round(rng.uniform(1e4, 1e8), 2), "shippingAddress": make.address(),
        "sicCode": make.maybe("3571"), "territory": "West",
        "tickerSymbol": make.maybe("ACME", None),
        "tollFreePhone": make.maybe("+1 800 555 0100"), "tollFreeExtension": make.maybe("1"),
        "website": "https://example.org", "recordManagerID": make.user_id(),
        "customFields": make.custom_fields("Company"), **make.times(),
    }  # fmt: skip


def group(make: Maker, index: int) -> dict:
    return {
        "id": ident(make.seed, "groups", index), "name": f"Groups {index}",
        "description": make.note(), "contacts": make.rng.randrange(0, 200),
        "parentID": make.maybe(ident(make.seed, "groups", 0), None), "hasSubgroups": False,
        "hierarchyLevel": 0, "isPrivate": False, "acl": "",
        "importDate": make.maybe(make.stamp(), None), "address": make.address(),
        "recordManagerID": make.user_id(), "customFields": make.custom_fields("Group"),
        **make.times(),
    }  # fmt: skip


# A group's members, at most: groups are mailing lists and teams, a few dozen contacts each.
GROUP_MEMBERS = 40


def memberships(make: Maker, size: dict) -> Iterator[tuple[str, dict]]:
    for index in range(size["groups"]):
        group_id = ident(make.seed, "groups", index)
        count = make.rng.randrange(0, GROUP_MEMBERS)
        for member in make.rng.sample(range(size["contacts"]), min(size["contacts"], count)):
            contact_id = ident(make.seed, "contacts", member)
            yield "group_contacts", {"id": f"{group_id}|{contact_id}", "groupID": group_id,
                                     "contactID": contact_id}  # fmt: skip


def opportunity(make: Maker, index: int, size: dict) -> dict:
    rng = make.rng
    process_id = rng.choice(list(PROCESSES))
    chances = PROCESSES[process_id][1]
    number = rng.randrange(1, len(chances) + 1)
    status = rng.randrange(0, 4)  # live Act! sends the status as an integer
    contacts = make.embedded("contacts", rng.randrange(0, 4), size["contacts"])
    return {
        "id": ident(make.seed, "opportunities", index), "name": f'Deal {index}, "phase" {number}',
        "actualCloseDate": OPEN_CLOSE_DATE if status == 0 else make.stamp(),
        "companies": make.embedded("companies", rng.randrange(0, 2), size["companies"]),
        "competitor": make.maybe("Globex"),
        "contactNames": ", ".join(c["displayName"] for c in contacts), "contacts": contacts,
        "creator": make.user(), "daysOpen": rng.randrange(0, 400),
        "daysInStage": rng.randrange(0, 90), "estimatedCloseDate": make.stamp(),
        "stageStartDate": make.stamp(), "grossMargin": round(rng.uniform(0, 5e4), 2),
        "groups": make.embedded("groups", rng.randrange(0, 2), size["groups"]),
        "isPrivate": False, "acl": "", "openDate": make.stamp(),
        "probability": chances[number - 1],
        "productTotal": round(rng.uniform(0, 1e5), 2), "product": make.maybe("Gerät 1"),
        "reason": make.maybe("Price"), "source": "Web", "sourceId": make.maybe("web-1", None),
        "stage": stage(process_id, number, chances[number - 1]), "status": status,
        "statusName": ["Open", "Won", "Lost", "Inactive"][status],
        "importDate": make.maybe(make.stamp(), None), "totalPerCompany": 0.0,
        "totalPerContact": round(rng.uniform(0, 1e4), 2), "totalPerGroup": 0.0,
        "weightedTotal": round(rng.uniform(0, 5e4), 2),
        "quickbooksInvoiceId": make.maybe("INV-1", None),
        "relatedEntitiesResolver": rng.random() < 0.5, "recordManagerID": make.user_id(),
        "customFields": make.custom_fields("Opportunity"), **make.times(),
    }  # fmt: skip


def line_items(make: Maker, opportunity: dict, products: list[dict]) -> list[dict]:
    """An opportunity's line items (/api/opportunities/{id}/products): none to a few."""
    items = []
    for _ in range(make.rng.randrange(0, 4) if products else 0):
        item, quantity = make.rng.choice(products), make.rng.randrange(1, 20)
        discount = make.rng.choice([0.0, 5.0, 12.5])
        price = round(item["price"] * (1 - discount / 100), 2)
        items.append({
            "id": ident(make.seed, "opportunity_products", make.rng.getrandbits(64)),
            "opportunityID": opportunity["id"], "productID": item["id"], "name": item["name"],
            "itemNumber": item["itemNumber"], "quantity": float(quantity),
            "price": item["price"], "discount": discount, "discountPrice": price,
            "total": round(price * quantity, 2), "cost": item["cost"], "type": "Product",
            "isQuickbooksProduct": False, "customFields": {}, "createDate": make.stamp(),
            "editDate": make.stamp(), **make.times(),
        })  # fmt: skip
    return items


def activity(make: Maker, index: int, size: dict) -> dict:
    rng = make.rng
    series = ident(make.seed, "activities", index)
    recurring, kind = rng.random() < 0.3, rng.randrange(1, ACTIVITY_TYPES + 1)
    start = make.stamp(0)
    contacts = make.embedded("contacts", rng.randrange(1, 4), size["contacts"])
    return {
        # A recurring occurrence's id is its series GUID followed by the date, MMddyyyy.
        "id": series + start[5:7] + start[8:10] + start[:4] if recurring else series,
        "isCleared": rng.random() < 0.5, "isAlarmCleared": rng.random() < 0.5,
        "isAlarmed": rng.random() < 0.3, "leadMinutes": rng.choice([0, 15, 60]),
        "alarmDue": make.maybe("00:15:00"), "seriesID": series, "originalTime": start,
        "startTime": start, "endTime": make.stamp(0), "duration": "00:30:00",
        "externalId": make.maybe("ext-1", None), "calendarUid": make.maybe("uid-1"),
        "accessorId": make.user_id(), "location": make.maybe("Zoom"), "isTimeless": False,
        "isAllDay": rng.random() < 0.1, "isPrivate": False, "isRecurring": recurring,
        "activityPriorityId": 1, "activityPriorityName": "Low", "activityTypeId": kind,
        "activityTypeName": f"Type {kind}", "attachment": attachment(make),
        "bannerColor": "#5B9BD5", "details": make.note(),
        "subject": f"Type {kind} with {contacts[0]['displayName'] if contacts else 'nobody'}",
        "recurSpec": recurrence(make, start) if recurring else None, **make.times(),
        "scheduledById": make.user_id(), "scheduledBy": make.user(),
        "scheduledForId": make.user_id(), "scheduledFor": make.user(),
        "scheduledWithCompany": make.maybe("Initech"),
        "scheduledWithEmail": make.maybe("someone@example.com", None),
        "scheduledWithPhone": make.maybe("+1 480 555 0142"), "scheduledWithPhoneExt": "",
        "companies": make.embedded("companies", rng.randrange(0, 2), size["companies"]),
        "contacts": contacts,
        "groups": make.embedded("groups", rng.randrange(0, 2), size["groups"]),
        "opportunities": make.embedded("opportunities", rng.randrange(0, 2),
                                       size["opportunities"]),
    }  # fmt: skip


def attachment(make: Maker) -> dict | None:
    if make.rng.random() < 0.9:
        return None
    return {"displayName": "Quote.pdf", "fileExtension": ".pdf", "fileName": "Quote.pdf",
            "fileSize": make.rng.randrange(1, 10**7), "fileSizeDisplay": "1.2 MB",
            "fileType": "application/pdf", "lastModified": make.stamp(),
            "personal": make.rng.random() < 0.5}  # fmt: skip


def recurrence(make: Maker, start: str) -> dict:
    return {"seriesStart": start, "seriesEnd": make.maybe(make.stamp(0), None),
            "day": {"dayAsInt": make.rng.randrange(1, 29), "daysOfWeek": ["Monday", "Thursday"],
                    "typedDay": "Day", "dayType": "Weekday", "ordinal": "First"},
            "isEndless": make.rng.random() < 0.5, "month": 0, "frequency": 1,
            "recurType": make.rng.choice(["Weekly", "Monthly"])}  # fmt: skip
