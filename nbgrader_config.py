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

# Every cell gets 60 s (imports of TensorFlow and torch on a busy 2-core machine took up to 35 s); a cell that runs longer is interrupted and scores 0, the rest of
# the notebook (and every other student) is still graded.
c.Execute.timeout = 60

# Any stderr output in a test cell scores 0. Python warnings (printed to stderr as
# "file.py:12: UserWarning: ...", also Keras's "WARNING:absl:...") are not errors, so drop
# those outputs before grading; errors are separate "error" outputs and still score 0.
# IgnorePattern only runs when enabled.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^[^\n]*:\d+: [A-Za-z]*Warning: |^WARNING:absl:"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Test cells, locked cells and points come from the gradebook, never from the submission.
c.OverwriteCells.enabled = True
