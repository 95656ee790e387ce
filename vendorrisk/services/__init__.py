"""Business rules: plain arguments in, models out; they flush but never commit."""
