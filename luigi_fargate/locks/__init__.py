"""Lock backends that keep one Luigi task from running twice at once: file, luigid, DynamoDB (see base.py)."""
