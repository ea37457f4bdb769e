"""One module per way of getting credentials (SPEC §1 kinds), composed by the engine."""
