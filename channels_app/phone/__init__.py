"""Phone through Twilio Voice webhooks: the spoken menu, queues, callbacks, call facts (ADR 0023)."""
