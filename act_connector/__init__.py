"""The Act! CRM connector's code: configuration, HTTP client, paging, flattening, sync and state.

connector.py at the project root wires these into the Fivetran Connector SDK.
"""
