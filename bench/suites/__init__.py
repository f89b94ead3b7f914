"""One module per suite; each has ``run(ctx)`` adding figures to ``ctx``."""
