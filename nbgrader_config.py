"""nbgrader configuration for the LSTM-shapes exercises.

Sources live in ``solutions/<assignment>/``; ``lstm-course release`` (or
``nbgrader generate_assignment <assignment> --force`` run here) writes the student
versions to ``exercises/<assignment>/``. The course root is always the folder of this
file, so a copy of it in a temporary course directory grades there.

Grade students' work with ``lstm-course grade``: it adds its own settings to a temporary copy of
this file so that every kernel runs in a bubblewrap sandbox (README, "Security"). A plain
``nbgrader autograde`` run here would execute student code with your rights.
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Time limits catch hangs, not slow machines. A cell of these notebooks takes about 1-6 s (measured while
# the machine ran four times more work than it has cores), so 120 s leaves a margin of 20 for a bad day.
# A cell that runs longer is interrupted and scores 0; the rest of the notebook (and every other student)
# is still graded. The slowest thing a notebook does is its first import of TensorFlow (155 s once, cold):
# `lstm-course grade` runs the set-up cell's imports before the first cell under their own limit
# (`SandboxExecute.setup_timeout`, 600 s), so they do not count against a cell.
c.Execute.timeout = 120
# Starting a kernel, and the kernel's last output after its reply, can lag on a loaded machine too.
# nbclient's defaults (60 s, 4 s) end the WHOLE notebook when they run out, not just one cell.
c.Execute.startup_timeout = 300
c.Execute.iopub_timeout = 60

# Plain nbgrader scores a test cell 0 for any stderr output. `lstm-course grade` (and `validate`) do not:
# a test's stderr is kept as a shortened note and only errors count (lstm_course/execute.py). For plain
# nbgrader runs (`lstm-course check`), Python warnings (printed to stderr as "file.py:12: UserWarning:
# ...", also Keras's "WARNING:absl:...") are dropped before grading; errors are separate "error" outputs
# and still score 0. IgnorePattern only runs when enabled.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^[^\n]*:\d+: [A-Za-z]*Warning: |^WARNING:absl:"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Test cells, locked cells and points come from the gradebook, never from the submission.
c.OverwriteCells.enabled = True
