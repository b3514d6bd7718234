"""Running Heimdex: the worker process, upkeep rounds, backups and the doctor's checks."""
