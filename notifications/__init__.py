"""Telling people: outbox, channels (in-app, email, webhooks) and delivery. Knows no case and no
flow."""
