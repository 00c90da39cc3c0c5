"""`python -m dyy_desk` runs the same command as `dyy-desk`."""

from __future__ import annotations

import sys

from dyy_desk.cli import main

sys.exit(main())
