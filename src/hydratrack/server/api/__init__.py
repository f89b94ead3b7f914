"""Routes under ``/api/v1``, one module per resource; they call the store, never SQL."""
