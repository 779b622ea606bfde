"""Delivering the outbox: notice texts, backends (log, SMTP, an SMS gateway over HTTP)
and the worker's claim–send–mark loop."""
