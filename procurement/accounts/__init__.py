"""Users, roles, login and the password policy."""
