"""Pure rules: lifecycle, calendar, deadlines, visibility and permissions.

Nothing here opens a database session or touches Flask; functions take values and
return values, or build ``select`` statements for the services to run.
"""
