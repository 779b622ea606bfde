"""Use cases: one function per action, one transaction each; raise domain errors."""
