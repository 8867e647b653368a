"""Who may do what: users and passwords, sign-in limits, API tokens, roles, the reach of a school
admin (their schools, their filters, their people), and the audit log."""
