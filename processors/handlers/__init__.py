"""Plain functions, one per event type; no Dramatiq in sight. They raise `RetryLater` for
what time will fix and `PermanentFailure` for what it will not."""
