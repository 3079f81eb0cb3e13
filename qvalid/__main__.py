"""``python -m qvalid`` is the ``qvalid`` command."""

import sys

from .cli import main

sys.exit(main())
