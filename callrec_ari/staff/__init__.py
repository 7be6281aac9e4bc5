"""Staff accounts: passwords, two-factor sign-in, lock-out, roles."""
