"""Who may reach what: a citizen to a case (filer, follower, the public; links, tracking
and one-time codes), staff to a case, and staff accounts signing in and out."""
