"""Use cases: one class each, ``execute(command)``; they talk to ports only."""
