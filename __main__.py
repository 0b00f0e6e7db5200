"""``python -m citydesk``: the same as the ``citydesk`` command."""

import sys

from citydesk.workbench.cli.main import main

sys.exit(main())
