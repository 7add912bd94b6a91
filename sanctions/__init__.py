"""Check cross-border transfers against UN Security Council sanctions."""
