"""``python -m sanctions`` runs ``check-transfer``."""

import sys

from sanctions.cli.main import main

sys.exit(main())
