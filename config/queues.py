"""Names shared by producers and consumers; stable, because messages outlive deploys."""

EVENTS_QUEUE = "events"
PROCESS_EVENT_ACTOR = "process_event"
JOBS_QUEUE = "jobs"
SUBMIT_JOB_ACTOR = "submit_job"
CLONE_VOICE_ACTOR = "clone_voice"
NOTIFICATIONS_QUEUE = "notifications"
DELIVER_NOTIFICATION_ACTOR = "deliver_notification"
