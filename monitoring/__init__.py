"""What the deployment looks like from outside: the signals read from the database and Redis,
their Prometheus exposition, the alert conditions over them and their notifications."""
