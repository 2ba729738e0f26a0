"""Organizations, API clients, access tokens and the JWKS."""
