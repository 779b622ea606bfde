"""Casework: applying the lifecycle table, intake, the departments' handling, closing and
review, supervision and plans, the clocks and the calendar they run on, and the sweep."""
