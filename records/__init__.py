"""The database schema shared by the receiver and the processors (tables and their states)."""
