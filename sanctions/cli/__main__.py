"""``python -m sanctions.cli``: the ``check-transfer`` command."""

import sys

from sanctions.cli.main import main

sys.exit(main())
