"""Names shared by whoever enqueues and whoever consumes; stable, because messages outlive deploys."""

EVENTS_QUEUE = "events"
PROCESS_EVENT_ACTOR = "process_event"
