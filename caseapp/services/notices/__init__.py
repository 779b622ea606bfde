"""Notices: to citizens through the outbox, to staff in the inbox and by email, written
notices to print, and the outbox as admins see it."""
