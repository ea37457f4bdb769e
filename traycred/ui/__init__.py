"""The tray's front ends: Pillow icons (icon.py), Qt widgets (qt/) and the pystray backend.

Importing this package imports no GUI toolkit; each backend imports its own lazily.
"""
