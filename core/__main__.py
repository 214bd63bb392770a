"""`python -m core`: the command-line interface (`core.cli.main`)."""

import sys

from core.cli.main import main

sys.exit(main())
