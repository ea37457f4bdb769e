"""Entry point of the PyInstaller bundle: the `traycred` command, exactly as the console script."""

import sys

from traycred.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
