"""One person's or household's preferences: find a person, show their values and setters, record
a guardian's or a clerk's choices; and the export of every preference."""
