"""Filing a case: the checks a filing passes, case numbers, attachments, possible
duplicates, following a case, and the catalogue the public files in."""
