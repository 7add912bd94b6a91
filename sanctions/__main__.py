"""``python -m sanctions`` runs ``check-transfer``."""

import sys

from sanctions.cli import main

sys.exit(main())
