"""The rest of an Act! database, consistent with the records of emulator/data.py.

Users who are the record managers, sales processes with ordered stages that opportunities stand
in, history types that history items are of, activity priorities, teams of users, line items of
opportunities, group membership, subgroups, files attached to history items (documents),
contacts' campaign e-mails and secondary contacts, custom field definitions
(/api/metadata/fields), one custom table and recurring activity series.
Every link points to a record that exists. These draw from a random stream of their own, so that
the records of data.py stay what they were for a seed.
"""

from __future__ import annotations

# A separate stream for what is built here: the records of data.py keep their values.
STREAM_OFFSET = 104_729
USER_NAMES = [
    ("John", "Hollo", "Administrator"),
    ("Chris", "Huffman", "Manager"),
    ("Aiko", "Tanaka", "Standard"),
    ("Renée", "Lefèvre", "Standard"),
    ("Bartłomiej", "Wróbel", "Restricted"),
    ("Sarah", "O'Connor", "Standard"),
]
# Act!'s two shipped sales processes, with their stages in order and each stage's probability.
PROCESSES = {
    "b2c2f1d4-0000-4000-8000-000000000001": (
        "Standard Sales",
        [("Lead", 10), ("Qualified", 25), ("Proposal", 50), ("Negotiation", 75), ("Commit", 90)],
    ),
    "b2c2f1d4-0000-4000-8000-000000000002": (
        "Renewal",
        [("Review", 30), ("Quote", 60), ("Signed", 95)],
    ),
}
# Custom fields as /api/metadata/fields lists them: (record type, name, display name, Act! type,
# picklist). The names are the keys of the records' customFields, and each value fits its type.
CUSTOM_FIELDS = [
    ("Contact", "user1", "Loyalty Tier", "Character", ["Gold", "Silver", "Bronze"]),
    ("Contact", "email__y_n", "E-mail Opt-in", "Character", ["Y", "N"]),
    ("Contact", "user4", "Spouse", "Character", None),
    ("Contact", "annual_value", "Annual Value", "Currency", None),
    ("Contact", "last_review", "Last Review", "Date", None),
    ("Contact", "newsletter", "Newsletter", "YesNo", None),
    ("Company", "user1", "Account Type", "Character", ["Key account", "Partner"]),
    ("Company", "seats", "Licensed Seats", "Number", None),
    ("Opportunity", "user2", "Fiscal Quarter", "Character", ["Q1", "Q2", "Q3", "Q4"]),
]
# Standard fields listed beside the custom ones, as Act! lists every field of a record type.
STANDARD_FIELDS = [
    ("Contact", "firstName", "First Name", "Character"),
    ("Contact", "birthday", "Birth Date", "AnnualEvent"),
    ("Company", "revenue", "Revenue", "Currency"),
    ("Opportunity", "estimatedCloseDate", "Est. Close Date", "Date"),
]
# Act!'s shipped activity priorities (Activities.ActivityPriority), by id: activities name theirs
# by activityPriorityId (data.py's are all 1, Low).
PRIORITIES = {1: "Low", 2: "Medium", 3: "High"}
# Teams of users (/api/teams): each team's name and how many users its roster holds at most.
TEAMS = [("Sales", 3), ("Support", 2), ("Management", 2)]
# The share of groups that are another group's subgroup.
SUBGROUP_SHARE = 0.3
# The share of history items with a file attached (a document), and the files: name -> type.
DOCUMENT_SHARE = 0.25
ATTACHMENTS = {
    "Proposal 2025.docx": "Microsoft Word Document",
    "Price list.xlsx": "Microsoft Excel Worksheet",
    "Contract signed.pdf": "PDF Document",
    "Site photo.jpg": "JPEG image",
}
# E-marketing campaigns, and how many of their e-mails a contact is sent (drawn from these).
CAMPAIGNS = ["Spring newsletter", "Product launch", "Renewal reminder"]
CAMPAIGN_SENDS = (0, 0, 0, 1, 2)
# How many secondary contacts a contact has (drawn from these).
SECONDARY_CONTACTS = (0, 0, 0, 0, 1, 2)
RECORD_TYPES = {"Contact": "contacts", "Company": "companies", "Opportunity": "opportunities"}
# The custom table every emulated database has (Act! Premium's custom entities).
CUSTOM_TABLE = "projects"
# Embedded arrays of related records that activities, notes and history carry besides contacts.
LINK_ARRAYS = ("companies", "groups", "opportunities")


def _stamp(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def users(make) -> list[dict]:
    rows = []
    for first, last, role in USER_NAMES:
        rows.append(
            {
                "id": make.guid(),
                "username": f"{first} {last}",
                "role": role,
                "displayName": f"{first} {last}",
                "email": f"{last.lower().replace(chr(39), '')}@example.com",
                "firstName": first,
                "lastName": last,
                "status": "Active" if role != "Restricted" else "Inactive",
                "lastLogOnDate": _stamp(make.moment(False)),
            }
        )
    return rows


def priorities() -> list[dict]:
    return [
        {"id": number, "name": name, "description": f"{name} priority", "isActive": True}
        for number, name in PRIORITIES.items()
    ]


def teams(make, users: list[dict]) -> list[dict]:
    """Teams, each with its roster: the users in it, whole, as /api/teams serves them."""
    rows = []
    for name, most in TEAMS:
        members = make.rng.sample(users, min(len(users), make.rng.randrange(1, most + 1)))
        rows.append(
            {
                "id": make.guid(),
                "name": name,
                "description": f"The {name.lower()} team",
                # copies: a user edited later is not edited in the roster served
                "roster": [dict(user) for user in members],
            }
        )
    return rows


def nest_groups(make, groups: list[dict]) -> None:
    """Makes some groups subgroups of an earlier one (so no group is its own ancestor), as
    /api/groups/{id}/associated-groups lists them: parentID, hierarchyLevel, hasSubgroups."""
    for number, group in enumerate(groups):
        if number and make.rng.random() < SUBGROUP_SHARE:
            parent = make.rng.choice(groups[:number])
            group["parentID"] = parent["id"]
            group["hierarchyLevel"] = parent["hierarchyLevel"] + 1
            parent["hasSubgroups"] = True


def documents(make, history: list[dict]) -> list[dict]:
    """History items with a file attached (the file's description, never its content), as
    /api/Documents lists them: some of history's, given an attachment there too."""
    rows = []
    for item in history:
        if make.rng.random() < DOCUMENT_SHARE:
            name, size = make.rng.choice(sorted(ATTACHMENTS)), make.rng.randrange(1_000, 5_000_000)
            item["attachment"] = {
                "displayName": name,
                "fileExtension": name.rsplit(".", 1)[1],
                "fileName": f"C:\\ActData\\Attachments\\{name}",
                "fileSize": size,
                "fileSizeDisplay": f"{size // 1024:,} KB",
                "fileType": ATTACHMENTS[name],
                "lastModified": item["edited"],
                "personal": make.rng.random() < 0.2,
            }
            rows.append(dict(item))  # a copy: the emulator edits each table's on its own
    return rows


def campaign_sends(make, contacts: list[dict], users: list[dict]) -> list[dict]:
    """E-marketing campaigns' e-mails to contacts (MarketingAutomation.Campaign): one record
    per e-mail sent, naming its contact, as /api/contacts/{id}/campaigns lists them."""
    rows = []
    for contact in contacts:
        for _ in range(make.rng.choice(CAMPAIGN_SENDS)):
            number = make.rng.randrange(len(CAMPAIGNS))
            sent = make.moment(False)
            opened, clicked = make.rng.random() < 0.5, make.rng.random() < 0.2
            manager = make.rng.choice(users)
            rows.append(
                {
                    "id": make.guid(),
                    "emailId": make.guid(),
                    "campaignId": f"c0ffee00-0000-4000-8000-{number:012d}",
                    "campaignName": CAMPAIGNS[number],
                    "contacts": [contact["id"]],
                    "receiverEmail": contact["emailAddress"],
                    "senderEmail": manager["email"],
                    "sendDate": _stamp(sent),
                    "subject": f"{CAMPAIGNS[number]}: news for {contact['firstName']}",
                    "url": "https://example.com/campaign",
                    "jumpUrl": "https://example.com/campaign/jump",
                    "clicks": clicked,
                    "clickDate": _stamp(sent) if clicked else None,
                    "opens": opened,
                    "openDate": _stamp(sent) if opened else None,
                    "bounced": False,
                    "unsubscribed": make.rng.random() < 0.05,
                    "complained": False,
                    "isPrivate": False,
                    "createDate": _stamp(sent),
                    "createUserId": manager["id"],
                    "creatorName": manager["displayName"],
                    "editDate": _stamp(sent),
                    "editUserId": manager["id"],
                    "editorName": manager["displayName"],
                    "manageUserId": manager["id"],
                    "managerName": manager["displayName"],
                    "recipientEmail": contact["emailAddress"],
                    "typeEnum": 0,
                }
            )
    return rows


def secondary_contact(make, data: dict) -> dict:
    """A contact's secondary contact (an assistant, a spouse): a Contacts.Contact of its own,
    listed only under its primary contact (/api/contacts/{id}/secondary-contacts)."""
    record = make.contact(data["companies"])
    manager = make.rng.choice(data["users"])
    record["recordManagerID"], record["recordManager"] = manager["id"], manager["displayName"]
    return record


def processes() -> list[dict]:
    return [
        {
            "id": process_id,
            "name": name,
            "description": f"{name} process",
            "status": "Active",
            "stagesCount": len(stages),
            "stages": [
                {"id": _stage_id(process_id, number), "name": stage, "number": number}
                for number, (stage, _) in enumerate(stages, 1)
            ],
        }
        for process_id, (name, stages) in PROCESSES.items()
    ]


def _stage_id(process_id: str, number: int) -> str:
    """A stage's GUID: its process's last digits and its number, unique across processes."""
    return f"5747a6e0-{process_id[-4:]}-4000-8000-{number:012d}"


def stages() -> list[dict]:
    rows = []
    for process_id, (name, steps) in PROCESSES.items():
        process = {
            "id": process_id,
            "name": name,
            "description": f"{name} process",
            "status": "Active",
            "stagesCount": len(steps),
            "stages": None,
        }
        for number, (stage, probability) in enumerate(steps, 1):
            rows.append(
                {
                    "id": _stage_id(process_id, number),
                    "name": stage,
                    "description": "",
                    "probability": probability,
                    "number": number,
                    "process": process,
                }
            )
    return rows


def history_types(task_types: list[dict]) -> list[dict]:
    """One per activity type, as task types list them (id = type id * 100 + 1), as
    /api/history-types serves them (MetaData.TypeCodes.HistoryType: the activity type's id as
    text, and four flags)."""
    return [
        {
            "id": embedded["id"],
            "name": embedded["name"],
            "activityTypeId": str(kind["id"]),
            "activityTypeName": kind["name"],
            "description": embedded["description"],
            "isActive": True,
            "isCustom": kind["isCustom"],
            "isDefault": False,
            "isUserRecordable": True,
        }
        for kind in task_types
        for embedded in kind["historyTypes"]
    ]


def field_definitions() -> list[dict]:
    rows = []
    custom = [(*field[:4], True, field[4]) for field in CUSTOM_FIELDS]
    standard = [(*field, False, None) for field in STANDARD_FIELDS]
    for number, (record_type, name, display, kind, is_custom, picklist) in enumerate(
        custom + standard, 1
    ):
        rows.append(
            {
                "id": f"f1e1d000-0000-4000-8000-{number:012d}",
                "name": name,
                "columnName": name.upper() if not is_custom else name,
                "recordType": record_type,
                "aliasName": display,
                "columnType": kind,
                "displayName": display,
                "tableName": f"TBL_{record_type.upper()}",
                "type": kind,
                "dataType": kind,
                "virtualId": None,
                "virtualType": None,
                "virtualObject": None,
                "virtualField": None,
                "length": 128 if kind == "Character" else 0,
                "minimumLength": 0,
                "precision": 19 if kind == "Currency" else 0,
                "scale": 4 if kind == "Currency" else 0,
                "minValue": None,
                "maxValue": None,
                "defaultValue": None,
                "fieldFormat": None,
                "formula": None,
                "calcDisplay": None,
                "isAllowBlank": True,
                "isCustom": is_custom,
                "isDefinedField": not is_custom,
                "isDisplayed": True,
                "isNullable": True,
                "isPrimary": False,
                "isProtected": False,
                "isReadOnly": False,
                "isTracked": False,
                "isVirtual": False,
                "createDate": "2019-03-04T10:00:00+00:00",
                "editDate": "2019-03-04T10:00:00+00:00",
                "changeEvent": None,
                "enterEvent": None,
                "leaveEvent": None,
                # PickListInfo: the list's own settings; its items are not part of it
                "picklist": {
                    "id": f"9a1c0000-0000-4000-8000-{number:012d}",
                    "name": display,
                    "description": "",
                    "isLimitToList": True,
                    "isMultiSelect": False,
                    "isTypeAhead": True,
                    "showDescription": False,
                }
                if picklist
                else None,
            }
        )
    return rows


def custom_value(make, kind: str):
    """A value of an Act! field type as the API sends it."""
    if kind == "Date":
        return make.maybe(_stamp(make.moment(False)), None)
    if kind == "YesNo":
        return make.rng.random() < 0.5
    if kind == "Number":
        return make.rng.randrange(1, 500)
    if kind == "Currency":
        return round(make.rng.uniform(0, 1e5), 2)
    return make.maybe(f"Value {make.rng.randrange(100)}")


def line_item(make, opportunity: dict, products: list[dict]) -> dict:
    product = make.rng.choice(products)
    quantity = make.rng.randrange(1, 20)
    discount = make.rng.choice([0.0, 5.0, 10.0, 12.5])
    discounted = round(product["price"] * (1 - discount / 100), 2)
    created, edited = make.times()
    return {
        "id": make.guid(),
        "opportunityID": opportunity["id"],
        "productID": product["id"],
        "name": product["name"],
        "itemNumber": product["itemNumber"],
        "quantity": float(quantity),
        "price": product["price"],
        "discount": discount,
        "discountPrice": discounted,
        "total": round(discounted * quantity, 2),
        "cost": product["cost"],
        "type": "Product",
        "isQuickbooksProduct": False,
        "customFields": {},
        "createDate": created,
        "editDate": edited,
        "created": created,
        "edited": edited,
        "editedBy": "John Hollo",
        "recordManager": "John Hollo",
    }


def membership(make, group: dict, contacts: list[dict]) -> list[dict]:
    """A group's members: one link record each, its id the pair of ids."""
    members = make.rng.sample(contacts, min(len(contacts), make.rng.randrange(0, 12)))
    return [
        {"id": f"{group['id']}|{c['id']}", "groupID": group["id"], "contactID": c["id"]}
        for c in members
    ]


def custom_row(make, data: dict) -> dict:
    created, edited = make.times()
    return {
        "id": make.guid(),
        "name": f"Project {make.rng.randrange(100, 999)}",
        "budget": round(make.rng.uniform(1e3, 1e6), 2),
        "dueDate": _stamp(make.moment(False)),
        "companies": _embedded(make, data["companies"], "name", 1),
        "contacts": _embedded(make, data["contacts"], "fullName", 2),
        "groups": _embedded(make, data.get("groups", []), "name", 1),
        "opportunity": _embedded(make, data["opportunities"], "name", 1),
        "created": created,
        "edited": edited,
        "editedBy": "John Hollo",
        "recordOwner": "John Hollo",
    }


def series(activity: dict) -> dict:
    """The recurring series a recurring occurrence belongs to (Activities.ActivitySeries)."""
    # An occurrence's own: its series id, and who it was scheduled for (ActivitySeries has
    # neither).
    record = {
        key: value for key, value in activity.items() if key not in ("seriesID", "accessorId")
    }
    return {**record, "id": activity["seriesID"], "durationDisplay": "30 minutes"}


def _embedded(make, records: list[dict], name_key: str, most: int) -> list[dict]:
    chosen = make.rng.sample(records, min(len(records), make.rng.randrange(0, most + 1)))
    return [{"id": r["id"], "displayName": r[name_key]} for r in chosen]


def relate(make, table: str, record: dict, data: dict) -> None:
    """Points a record of data.py at records that exist: its manager is a user, an opportunity
    stands in a real stage, activities, notes and history link companies, groups and
    opportunities, history items are of a real history type, custom fields fill every field the
    metadata defines."""
    if "recordManagerID" in record and data.get("users"):
        manager = make.rng.choice(data["users"])
        record["recordManagerID"] = manager["id"]
        if "recordManager" in record:
            record["recordManager"] = manager["displayName"]
    if table == "opportunities" and data.get("opportunity_stages"):
        stage = make.rng.choice(data["opportunity_stages"])
        record["stage"] = dict(stage)
        record["probability"] = stage["probability"]
    if table in ("activities", "notes", "history"):
        names = {"companies": "name", "groups": "name", "opportunities": "name"}
        for array in LINK_ARRAYS:
            record[array] = _embedded(make, data.get(array, []), names[array], 2)
    if table == "history" and data.get("history_types"):
        kind = make.rng.choice(data["history_types"])
        record["historyTypeID"] = kind["id"]
        # Histories.HistoryType, as a history item embeds it: the activity type's id a number
        record["historyType"] = {
            "id": kind["id"],
            "name": kind["name"],
            "activityTypeId": int(kind["activityTypeId"]),
            "activityTypeName": kind["activityTypeName"],
            "description": kind["description"],
        }
    record_type = {table: kind for kind, table in RECORD_TYPES.items()}.get(table)
    if record_type and "customFields" in record:
        for field in CUSTOM_FIELDS:
            if field[0] == record_type and field[1] not in record["customFields"]:
                record["customFields"][field[1]] = custom_value(make, field[3])


def relate_all(make, data: dict, sizes: dict) -> None:
    """Adds the related tables to `data` and points the records of data.py at them; `make` is a
    Generator of a stream of its own (seed + STREAM_OFFSET)."""
    data["users"] = users(make)
    data["opportunity_processes"] = processes()
    data["opportunity_stages"] = stages()
    data["history_types"] = history_types(data["activity_types"])
    data["activity_priorities"] = priorities()
    data["fields"] = field_definitions()
    data["entities"] = [
        {"id": "e0e0e000-0000-4000-8000-000000000001", "name": CUSTOM_TABLE,
         "displayName": CUSTOM_TABLE.title(), "isCustom": True, "recordType": "CustomEntity",
         "parents": "Contact,Company,Group,Opportunity",
         "createUserID": data["users"][0]["id"] if data["users"] else None,
         "createDate": "2020-01-06T09:00:00+00:00"}
    ]  # fmt: skip
    related = (
        "contacts",
        "companies",
        "opportunities",
        "activities",
        "groups",
        "notes",
        "history",
    )
    for table in related:
        for record in data[table]:
            relate(make, table, record, data)
    data["opportunity_products"] = [
        line_item(make, opportunity, data["products"])
        for opportunity in data["opportunities"]
        for _ in range(make.rng.randrange(0, 4) if data["products"] else 0)
    ]
    data["group_contacts"] = [
        link for group in data["groups"] for link in membership(make, group, data["contacts"])
    ]
    data[f"custom_{CUSTOM_TABLE}"] = [
        custom_row(make, data) for _ in range(sizes.get(f"custom_{CUSTOM_TABLE}", 20))
    ]
    # One series per seriesID, however many of its occurrences there are.
    data["recurring_activities"] = list(
        {
            row["id"]: row for row in (series(a) for a in data["activities"] if a["isRecurring"])
        }.values()
    )
    # Drawn last, so that what is drawn before stays what it was for a seed.
    data["teams"] = teams(make, data["users"])
    nest_groups(make, data["groups"])
    data["documents"] = documents(make, data["history"])
    data["contact_campaigns"] = campaign_sends(make, data["contacts"], data["users"])
    secondary = [(primary, secondary_contact(make, data)) for primary in data["contacts"]
                 for _ in range(make.rng.choice(SECONDARY_CONTACTS))]  # fmt: skip
    data["secondary_contacts"] = [record for _, record in secondary]
    data["contact_secondaries"] = [
        {"id": f"{primary['id']}|{record['id']}", "contactID": primary["id"],
         "secondaryID": record["id"]}
        for primary, record in secondary
    ]  # fmt: skip
