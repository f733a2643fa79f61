"""The devices an account signs in from: a notice for a new one, and "this wasn't me"."""
