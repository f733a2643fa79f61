"""The second factor: TOTP with recovery codes, the two-step password sign-in, passkeys."""
