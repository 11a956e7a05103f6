"""The webhook receiver: verify, deduplicate, persist, acknowledge, enqueue."""
