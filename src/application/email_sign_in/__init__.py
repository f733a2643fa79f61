"""Sign in without a password: one mail with a code and a link, one grant behind both."""
