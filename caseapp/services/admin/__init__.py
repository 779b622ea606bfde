"""The admin areas: accounts, departments, the catalogue, deadline policies and the
calendar's overrides, reply templates, settings, API keys, and the audit log."""
