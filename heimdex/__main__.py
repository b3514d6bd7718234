"""``python -m heimdex``: see :mod:`heimdex.cli`."""

import sys

from heimdex.cli import main

sys.exit(main())
