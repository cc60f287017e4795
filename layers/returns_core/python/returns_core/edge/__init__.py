"""What the entry points wear: the Powertools stack of a workflow step (`steps`), the payloads
the state machine hands each step (`step_events`), and bearer tokens (`auth`)."""
