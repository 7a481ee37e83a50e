"""Security tests: single sign-on against real servers the tests start (slapd, an OpenID provider)."""
