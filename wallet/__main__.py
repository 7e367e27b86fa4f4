"""``python -m wallet``: see ``wallet/cli.py``."""

from __future__ import annotations

import sys

from wallet.cli import main

if __name__ == "__main__":
    sys.exit(main())
