"""Figures computed from the cases: public statistics, ledgers, scorecards, exports."""
