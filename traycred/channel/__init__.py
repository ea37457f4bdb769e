"""The local channel between the CLI and the running tray or daemon (a per-user Unix socket).

Kept empty on purpose: `traycred.channel.client` must import in a few milliseconds.
"""
