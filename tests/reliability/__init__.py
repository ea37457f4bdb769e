"""SPEC §7 reliability and security suite: concurrent writers, bad input, network faults,
secrets, permissions, an unavailable keyring — each driven the way a user or another tool would."""
