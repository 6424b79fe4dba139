"""``python -m lstm_ref.course`` is ``lstm-course``."""

import sys

from lstm_ref.course.cli import main

sys.exit(main())
