"""Where the catalogue (fields.json) departs from the vendor's API definition, and why: the one
place tests/test_vendor.py holds every departure to. Each entry says where its evidence is; an
entry the catalogue no longer needs fails the test as much as a departure left unlisted."""

FACTS = "../shared/reference/FACTS.md"

# Paths the catalogue tries that the vendor's definition (build 1.1.1324.1) does not list.
PATHS = {
    ("activities", "activities"): f"older builds serve activities here ({FACTS}, Endpoints)",
    ("activity_types", "activitytypes"): f"older builds ({FACTS}, Endpoints)",
    ("activity_types", "activity-types"): f"the product brief's path ({FACTS}, Endpoints)",
}

# Columns the catalogue declares that the definition lacks.
DECLARED_NOT_DEFINED = {
    ("contacts", "recordOwner"): (
        f"a live contact carries a top-level recordOwner ({FACTS}, 'A live contact published')"
    ),
    ("fields", "landed_column"): "made by the connector: the column a field lands as (derive)",
    ("entities", "landed_table"): "made by the connector: the table an entity lands as (derive)",
    ("secondary_contacts", "primary_contact_id"): (
        "made by the connector: the contact whose list (/api/contacts/{id}/secondary-contacts) "
        "the secondary contact was read from"
    ),
    ("contact_campaigns", "contact_id"): (
        "made by the connector: the contact whose list (/api/contacts/{id}/campaigns) the "
        "campaign e-mail was read from"
    ),
}

# Properties of the definition the catalogue does not declare as columns.
DEFINED_NOT_DECLARED = {
    **{
        (table, "customFields"): (
            "a map of the database's own fields: each is declared from Act!'s field "
            "definitions at sync time (metadata.py), as customFields_<name>"
        )
        for table in ("contacts", "companies", "opportunities", "groups")
    },
    ("secondary_contacts", "customFields"): (
        "left to inference, as a custom table's own fields: Act!'s field definitions for "
        "Contact type one table, contacts (metadata.py)"
    ),
    **{
        (table, "historyType_id"): (
            "left out of every row (fields.json 'omit'): the same id as historyTypeID, and both "
            "would land in history_type_id"
        )
        for table in ("history", "documents")
    },
}
