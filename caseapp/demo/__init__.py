"""Demo data for the local run and the browser tests (only this creates demo accounts)."""
