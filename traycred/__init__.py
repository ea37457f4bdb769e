"""traycred: keeps short-lived AWS credentials fresh; long-term keys stay in the OS keyring."""

__version__ = "0.1.0"
