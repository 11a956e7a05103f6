"""The sweeper process: periodic chores that repair what a crash or an outage left behind."""
