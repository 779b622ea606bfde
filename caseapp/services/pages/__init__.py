"""What the staff pages read: the queues and search, the case page, the escalation board,
the inbox, and the ledger item pages."""
