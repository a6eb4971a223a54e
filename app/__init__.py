"""GoTone Portal: a multi-user web portal in front of a GoTone (Ultimate SMS) gateway."""
