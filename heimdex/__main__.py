"""``python -m heimdex``: see :mod:`heimdex.app.cli`."""

import sys

from heimdex.app.cli import main

sys.exit(main())
