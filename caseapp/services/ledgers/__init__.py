"""The ledgers (台账): items and their cases, and importing an existing ledger."""
