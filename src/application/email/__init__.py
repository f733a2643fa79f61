"""Email ownership and account recovery: mail tokens, the mails, and their use cases."""
