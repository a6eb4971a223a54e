"""Message history ("Sent from this portal", gateway history): filled in by issue 6b."""
