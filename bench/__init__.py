"""`make bench`: how fast and how lean the connector is, against the SDK writer's own floor."""
