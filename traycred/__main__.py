"""Allows `python -m traycred`."""

from traycred.cli.main import main

raise SystemExit(main())
