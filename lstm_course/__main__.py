"""``python -m lstm_course`` is ``lstm-course``."""

import sys

from lstm_course.cli import main

sys.exit(main())
