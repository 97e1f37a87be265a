"""Deterministic Act!-shaped records: the vendor's field names and nesting, and awkward values.

Awkward on purpose, as real Act! data is: non-ASCII names, empty strings beside nulls, multi-line
text with quotes and commas, composite activity ids (GUID + MMddyyyy), open opportunities
closing on 9999-12-31, whole-second timestamps, and a bulk import where a fifth of a table
shares one second.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from emulator import related

EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPAN_SECONDS = 600 * 24 * 3600  # seeded edits spread over the 600 days after EPOCH
IMPORT_SECOND = datetime(2025, 3, 15, 9, 0, 0, tzinfo=timezone.utc)  # the bulk import
IMPORT_SHARE = 0.2
OPEN_CLOSE_DATE = "9999-12-31T00:00:00+00:00"

FIRST = [
    "José",
    "Zoë",
    "Åsa",
    "François",
    "Łukasz",
    "Søren",
    "Mária",
    "王芳",
    "Nguyễn",
    "Aoife",
    "John",
    "Mary",
    "Ahmed",
    "Priya",
    "Olga",
    "Chloé",
    "Dmitrij",
    "Ana",
    "Björn",
    "Kenji",
]
LAST = [
    "O'Brien",
    "Müller",
    "García",
    "Smith",
    "Дмитриев",
    "Jones",
    "Øvergaard",
    "Łęcki",
    "Lee",
    "da Silva",
    "Nakamura",
    "Brown",
    "Ngô",
    "Schäfer",
    "Kowalski",
    "Taylor",
    "Dubois",
]
COMPANY = [
    "Acme, Inc.",
    "Brück & Söhne GmbH",
    'Café "Les Amis"',
    "Northwind Traders",
    "Globex",
    "Initech",
    "Søndergaard A/S",
    "東京商事",
    "Umbrella Corp",
    "Vandelay",
]
STREETS = ["Main St", "Bahnhofstraße", "Rue de la Paix"]
PRODUCTS = ["Widget", "Gerät", "Licence"]
CITY = ["Scottsdale", "Zürich", "São Paulo", "Kraków", "Reykjavík", "London", "Montréal"]
NOTES = [
    'Met at "Expo 2025", discussed pricing,\nasked for a follow-up next week.',
    "Prefers e-mail; do not call before 10am.\r\nBudget: $12,500 (approved).",
    "",
    'Line one\nLine two, with a comma\nLine three "quoted"',
    None,
]
TASK_TYPES = [
    "Call",
    "Meeting",
    "To-Do",
    "Personal Activity",
    "Vacation",
    "Marketing Call",
    "E-mail",
    "Follow-up",
    "Demo",
    "Lunch",
    "Webinar",
    "Site Visit",
]


def embedded_contacts(contacts: list[dict]) -> list[dict]:
    """Contacts as other records embed them (Contacts.EmbeddedContact)."""
    return [
        {"id": c["id"], "displayName": c["fullName"], "company": c["company"], "isInvited": False}
        for c in contacts
    ]


def associations(contacts: list[dict]) -> dict:
    """What a note or a history item is attached to: here, only contacts."""
    return {"companies": [], "contacts": embedded_contacts(contacts), "groups": [],
            "opportunities": [], "attachment": None}  # fmt: skip


def audit(created: str, edited: str) -> dict:
    """The fields that close every editable entity: when, and by whom."""
    return {"created": created, "edited": edited, "editedBy": "John Hollo",
            "recordManager": "John Hollo"}  # fmt: skip


# Act!'s own activity types (ids 1 to 8); custom ones are numbered from 1000 on live servers
# (../shared/reference/FACTS.md: "a custom activity type numbered 1000").
STANDARD_TASK_TYPES = 8
CUSTOM_TASK_TYPE_IDS = 1000


def task_type_id(number: int) -> int:
    """The id of the `number`th activity type."""
    if number <= STANDARD_TASK_TYPES:
        return number
    return CUSTOM_TASK_TYPE_IDS + number - STANDARD_TASK_TYPES - 1


def task_type_number(type_id: int) -> int:
    if type_id < CUSTOM_TASK_TYPE_IDS:
        return type_id
    return type_id - CUSTOM_TASK_TYPE_IDS + STANDARD_TASK_TYPES + 1


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class Generator:
    """Builds records for each table from one seed; the same seed gives the same records."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def moment(self, bulk: bool = True) -> datetime:
        if bulk and self.rng.random() < IMPORT_SHARE:
            return IMPORT_SECOND
        return EPOCH + timedelta(seconds=self.rng.randrange(SPAN_SECONDS))

    def maybe(self, value, empty=""):
        """The value, or an unset one: Act! sends both "" and null for unset text."""
        roll = self.rng.random()
        return value if roll < 0.7 else (empty if roll < 0.85 else None)

    def address(self) -> dict:
        pick = self.rng.choice
        return {
            "line1": f"{self.rng.randrange(1, 999)} {pick(STREETS)}",
            "line2": self.maybe("Suite 100"),
            "line3": None,
            "city": pick(CITY),
            "state": self.maybe("AZ"),
            "postalCode": f"{self.rng.randrange(10000, 99999)}",
            "country": pick(["United States", "Schweiz", "Brasil", "Polska"]),
            "latitude": round(self.rng.uniform(-60, 60), 6),
            "longitude": round(self.rng.uniform(-150, 150), 6),
        }

    def times(self) -> tuple[str, str]:
        edited = self.moment()
        created = min(edited, EPOCH + timedelta(seconds=self.rng.randrange(SPAN_SECONDS)))
        return stamp(created), stamp(edited)

    def contact(self, companies: list[dict]) -> dict:
        pick, first, last = self.rng.choice, self.rng.choice(FIRST), self.rng.choice(LAST)
        company = pick(companies) if companies and self.rng.random() < 0.8 else None
        created, edited = self.times()
        phone = {}
        for kind in ("business", "mobile", "fax", "home", "alternate", "pager"):
            phone[f"{kind}Phone"] = self.maybe(f"+1 480 555 {self.rng.randrange(1000, 9999)}")
            phone[f"{kind}Extension"] = self.maybe("12") if kind == "business" else ""
            phone[f"{kind}CountryCode"] = 1 if phone[f"{kind}Phone"] else None
            phone[f"{kind}MaskFormat"] = "(###) ###-####"
        return {
            "id": self.guid(),
            "idStatus": pick(["Customer", "Prospect", ""]),
            "isUser": False,
            "company": company["name"] if company else "",
            "department": self.maybe("Sales"),
            "companyID": company["id"] if company else "",
            "contactType": "Contact",
            "namePrefix": self.maybe("Dr."),
            "firstName": first,
            "middleName": self.maybe("Ä."),
            "lastName": last,
            "nameSuffix": None,
            "fullName": f"{first} {last}",
            "isFavorite": self.rng.random() < 0.1,
            "isImported": False,
            "importDate": None,
            "isPrivate": False,
            "acl": "",
            "lastResults": pick(NOTES),
            "lastEmail": stamp(self.moment(False)),
            "lastAttempt": None,
            "lastReach": stamp(self.moment(False)),
            "lastMeeting": None,
            "lastLetterSent": None,
            "messengerID": "",
            "referredBy": self.maybe("Web"),
            "salutation": first,
            "jobTitle": self.maybe("Head of Purchasing"),
            "amaScore": self.rng.randrange(0, 100),
            "emailAddress": f"{last.lower().replace(' ', '')}@example.com",
            "altEmailAddress": "",
            "personalEmailAddress": None,
            "website": self.maybe("https://example.com"),
            "birthday": self.maybe(
                stamp(EPOCH - timedelta(days=self.rng.randrange(8000, 25000))), None
            ),
            "businessAddress": self.address(),
            **phone,
            "homeAddress": self.address(),
            "aemOptOut": False,
            "aemBounceBack": False,
            "recordManagerID": self.guid(),
            "quickbooksId": None,
            "nylasContactId": "",
            "customFields": {
                "user1": self.maybe("Gold"),
                "email__y_n": pick(["Y", "N"]),
                "user4": "",
                "annual_value": round(self.rng.uniform(0, 1e5), 2),
            },
            **audit(created, edited),
        }

    def company(self) -> dict:
        created, edited = self.times()
        return {
            "id": self.guid(),
            "name": f"{self.rng.choice(COMPANY)} {self.rng.randrange(1, 99)}",
            "address": self.address(),
            "billingAddress": self.address(),
            "description": self.rng.choice(NOTES),
            "division": "",
            "fax": self.maybe("+1 480 555 0100"),
            "faxExtension": "",
            "hasDivisions": False,
            "hierarchyLevel": 0,
            "idStatus": "Customer",
            "importDate": None,
            "industry": self.maybe("Manufacturing"),
            "isPrivate": False,
            "acl": "",
            "numberOfEmployees": self.rng.randrange(1, 5000),
            "rootParentID": None,
            "parentID": None,
            "phone": "+1 480 555 0199",
            "phoneExtension": "",
            "referredBy": None,
            "region": self.maybe("EMEA"),
            "revenue": round(self.rng.uniform(1e4, 1e8), 2),
            "shippingAddress": self.address(),
            "sicCode": "",
            "territory": "West",
            "tickerSymbol": None,
            "tollFreePhone": "",
            "tollFreeExtension": "",
            "website": "https://example.org",
            "recordManagerID": self.guid(),
            "customFields": {"user1": self.maybe("Key account")},
            **audit(created, edited),
        }

    def opportunity(self, contacts: list[dict], companies: list[dict]) -> dict:
        created, edited = self.times()
        status = self.rng.randrange(0, 4)  # live Act! sends the status as an integer
        process = {
            "id": "b2c2f1d4-0000-4000-8000-000000000001",
            "name": "Standard Sales",
            "description": "Default process",
            "status": "Active",
            "stagesCount": 5,
            "stages": None,
        }
        number = self.rng.randrange(1, 6)
        linked = self.rng.sample(contacts, min(len(contacts), self.rng.randrange(0, 3)))
        return {
            "id": self.guid(),
            "name": f'Deal {self.rng.randrange(1000, 9999)}, "phase" {number}',
            "actualCloseDate": OPEN_CLOSE_DATE if status == 0 else stamp(self.moment(False)),
            "companies": [
                {"id": c["id"], "name": c["name"]}
                for c in self.rng.sample(companies, min(1, len(companies)))
            ],
            "competitor": self.maybe("Globex"),
            "contactNames": ", ".join(c["fullName"] for c in linked),
            "contacts": embedded_contacts(linked),
            "creator": "John Hollo",
            "daysOpen": self.rng.randrange(0, 400),
            "daysInStage": self.rng.randrange(0, 90),
            "estimatedCloseDate": stamp(self.moment(False)),
            "stageStartDate": stamp(self.moment(False)),
            "grossMargin": round(self.rng.uniform(0, 5e4), 2),
            "groups": [],
            "isPrivate": False,
            "acl": "",
            "openDate": created,
            "probability": number * 20,
            "productTotal": round(self.rng.uniform(0, 1e5), 2),
            "product": "",
            "reason": self.maybe("Price"),
            "source": "Web",
            "sourceId": None,
            "stage": {
                "id": self.guid(),
                "name": f"Stage {number}",
                "description": "",
                "probability": number * 20,
                "number": number,
                "process": process,
            },
            "status": status,
            "statusName": ["Open", "Won", "Lost", "Inactive"][status],
            "importDate": None,
            "totalPerCompany": 0.0,
            "totalPerContact": 0.0,
            "totalPerGroup": 0.0,
            "weightedTotal": round(self.rng.uniform(0, 5e4), 2),
            "quickbooksInvoiceId": None,
            "relatedEntitiesResolver": False,
            "recordManagerID": self.guid(),
            "customFields": {"user2": self.maybe("Q3")},
            **audit(created, edited),
        }

    def activity(self, contacts: list[dict], task_types: list[dict]) -> dict:
        created, edited = self.times()
        start = self.moment(False)
        series = self.guid()
        recurring = self.rng.random() < 0.3
        kind = self.rng.choice(task_types)
        linked = self.rng.sample(contacts, min(len(contacts), self.rng.randrange(1, 3)))
        return {
            # A recurring occurrence's id is its series GUID followed by the date, MMddyyyy.
            "id": series + start.strftime("%m%d%Y") if recurring else series,
            "isCleared": self.rng.random() < 0.5,
            "isAlarmCleared": False,
            "isAlarmed": False,
            "leadMinutes": 15,
            "alarmDue": "",
            "seriesID": series,
            "originalTime": stamp(start),
            "startTime": stamp(start),
            "endTime": stamp(start + timedelta(minutes=30)),
            "duration": "00:30:00",
            "externalId": None,
            "calendarUid": "",
            "accessorId": self.guid(),
            "location": self.maybe("Zoom"),
            "isTimeless": False,
            "isAllDay": False,
            "isPrivate": False,
            "isRecurring": recurring,
            "activityPriorityId": 1,
            "activityPriorityName": "Low",
            "activityTypeId": kind["id"],
            "activityTypeName": kind["name"],
            "attachment": None,
            "bannerColor": "#5B9BD5",
            "details": self.rng.choice(NOTES),
            "subject": f"{kind['name']} with {linked[0]['fullName'] if linked else 'nobody'}",
            "recurSpec": {
                "seriesStart": stamp(start),
                "day": None,
                "seriesEnd": None,
                "isEndless": True,
                "month": 0,
                "frequency": 1,
                "recurType": "Weekly",
            }
            if recurring
            else None,
            "created": created,
            "edited": edited,
            "scheduledById": self.guid(),
            "scheduledBy": "John Hollo",
            "scheduledForId": self.guid(),
            "scheduledFor": "John Hollo",
            "scheduledWithCompany": "",
            "scheduledWithEmail": None,
            "scheduledWithPhone": "",
            "scheduledWithPhoneExt": "",
            "companies": [],
            "contacts": [
                {
                    "id": c["id"],
                    "displayName": c["fullName"],
                    "emailAddress": c["emailAddress"],
                    "isInvited": False,
                }
                for c in linked
            ],
            "groups": [],
            "opportunities": [],
        }

    def task_type(self, number: int) -> dict:
        """The `number`th activity type: Act!'s own first, then custom ones, which live servers
        number from 1000."""
        name = TASK_TYPES[(number - 1) % len(TASK_TYPES)] + (
            "" if number <= len(TASK_TYPES) else f" {number}"
        )
        return {
            "id": task_type_id(number),
            "name": name,
            "description": f"{name} (default)",
            "isActive": True,
            "isCustom": number > STANDARD_TASK_TYPES,
            "isDeletable": number > STANDARD_TASK_TYPES,
            "taskTypeGuid": self.guid(),
            "historyTypes": [
                {
                    "id": task_type_id(number) * 100 + 1,
                    "name": f"{name} completed",
                    "description": "",
                    "clearType": "COMPLETED",
                    "isDefault": True,
                }
            ],
            "defaultPreferences": {
                "priority": 1,
                "reminder": 15,
                "duration": 30,
                "isAllDayEvent": False,
                "autoRollover": False,
                "color": "#5B9BD5",
                "taskDropDownFields": [],
            },
        }

    def product(self) -> dict:
        created, edited = self.times()
        return {
            "id": self.guid(),
            "name": f"{self.rng.choice(PRODUCTS)} {self.rng.randrange(1, 999)}",
            "cost": round(self.rng.uniform(1, 500), 2),
            "createDate": created,
            "editDate": edited,
            "itemNumber": f"SKU-{self.rng.randrange(10000, 99999)}",
            "price": round(self.rng.uniform(5, 900), 2),
        }

    def group(self) -> dict:
        created, edited = self.times()
        return {
            "id": self.guid(),
            "name": f"Group {self.rng.randrange(1, 999)}",
            "description": self.rng.choice(NOTES),
            "contacts": self.rng.randrange(0, 200),
            "parentID": None,
            "hasSubgroups": False,
            "hierarchyLevel": 0,
            "isPrivate": False,
            "acl": "",
            "importDate": None,
            "address": self.address(),
            "recordManagerID": self.guid(),
            "customFields": {},
            **audit(created, edited),
        }

    def note(self, contacts: list[dict]) -> dict:
        created, edited = self.times()
        linked = self.rng.sample(contacts, min(1, len(contacts)))
        return {
            "id": self.guid(),
            "recordManager": "John Hollo",
            "recordManagerID": self.guid(),
            "createUserID": self.guid(),
            "isPrivate": False,
            "noteText": self.rng.choice(NOTES) or "Note",
            "noteTypeID": 0,
            "displayDate": created,
            "created": created,
            "edited": edited,
            **associations(linked),
        }

    def history(self, contacts: list[dict]) -> dict:
        created, edited = self.times()
        linked = self.rng.sample(contacts, min(1, len(contacts)))
        return {
            "id": self.guid(),
            "recordManagerID": self.guid(),
            "recordManager": "John Hollo",
            "createUserID": self.guid(),
            "createUserName": "John Hollo",
            "editUserID": self.guid(),
            "editUserName": "John Hollo",
            "contactEmail": "",
            "contactPhone": "",
            "contactPhoneExt": "",
            "contactCompany": "",
            "isPrivate": False,
            "details": self.rng.choice(NOTES),
            "regarding": "Call",
            "duration": "00:05:00",
            "startTime": created,
            "endTime": created,
            "outlookID": None,
            "historyTypeID": 101,
            "historyType": {
                "id": 101,
                "name": "Call Completed",
                "activityTypeId": 1,
                "activityTypeName": "Call",
                "description": "",
            },
            "created": created,
            "edited": edited,
            **associations(linked),
        }


# Records per table for the demo data set; any table can be resized on the command line.
DEMO_SIZES = {
    "contacts": 500,
    "companies": 80,
    "opportunities": 120,
    "activities": 300,
    "activity_types": 12,
    "products": 40,
    "groups": 15,
    "notes": 150,
    "history": 200,
}


def generate(seed: int, sizes: dict[str, int]) -> dict[str, list[dict]]:
    """Every table's records, from `seed`; a table may refer to an earlier one's records."""
    make = Generator(seed)
    size = {**DEMO_SIZES, **sizes}
    data: dict[str, list[dict]] = {}
    data["companies"] = [make.company() for _ in range(size["companies"])]
    data["contacts"] = [make.contact(data["companies"]) for _ in range(size["contacts"])]
    data["activity_types"] = [make.task_type(n) for n in range(1, size["activity_types"] + 1)]
    data["opportunities"] = [
        make.opportunity(data["contacts"], data["companies"]) for _ in range(size["opportunities"])
    ]
    data["activities"] = [
        make.activity(data["contacts"], data["activity_types"]) for _ in range(size["activities"])
    ]
    data["products"] = [make.product() for _ in range(size["products"])]
    data["groups"] = [make.group() for _ in range(size["groups"])]
    data["notes"] = [make.note(data["contacts"]) for _ in range(size["notes"])]
    data["history"] = [make.history(data["contacts"]) for _ in range(size["history"])]
    related.relate_all(Generator(seed + related.STREAM_OFFSET), data, size)
    return data


# The tables new_record makes records for (activity types are Act!'s own, and so are users).
CREATABLE = (
    "contacts",
    "companies",
    "opportunities",
    "activities",
    "products",
    "groups",
    "notes",
    "history",
    "opportunity_products",
    "group_contacts",
    f"custom_{related.CUSTOM_TABLE}",
)


def new_record(make: Generator, table: str, data: dict[str, list[dict]]) -> dict:
    """One more record for `table`, as a user would create it, linked to records that exist."""
    record = _new_record(make, table, data)
    related.relate(make, table, record, data)
    return record


def _new_record(make: Generator, table: str, data: dict[str, list[dict]]) -> dict:
    if table == "opportunity_products":
        return related.line_item(make, make.rng.choice(data["opportunities"]), data["products"])
    if table == "group_contacts":
        group, contact = make.rng.choice(data["groups"]), make.rng.choice(data["contacts"])
        return {"id": f"{group['id']}|{contact['id']}", "groupID": group["id"],
                "contactID": contact["id"]}  # fmt: skip
    if table == f"custom_{related.CUSTOM_TABLE}":
        return related.custom_row(make, data)
    if table == "contacts":
        return make.contact(data["companies"])
    if table == "opportunities":
        return make.opportunity(data["contacts"], data["companies"])
    if table == "activities":
        return make.activity(data["contacts"], data["activity_types"])
    if table == "activity_types":
        numbers = (task_type_number(r["id"]) for r in data["activity_types"])
        return make.task_type(max(numbers, default=0) + 1)
    if table in ("notes", "history"):
        return getattr(make, {"notes": "note", "history": "history"}[table])(data["contacts"])
    return getattr(
        make, {"companies": "company", "products": "product", "groups": "group"}[table]
    )()
