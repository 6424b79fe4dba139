"""Stage 3, results: what the grades say, to the student and to the instructor.

:mod:`~lstm_course.results.feedback` (the student's page, hidden tests redacted),
:mod:`~lstm_course.results.misconceptions` (the mistake a failing check's message reveals) and
:mod:`~lstm_course.results.report` (``lstm-course report``: the class report).
"""
