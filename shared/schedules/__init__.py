"""Scheduled batches (docs/schedules.md): a batch template with a rule in the district's time
zone. Beat only ticks; each due run is claimed once, in the database, under a unique (schedule,
due time in UTC), in the transaction that creates its batch."""
