"""Stage 2, grade: submissions in, one recorded outcome each out.

:mod:`~lstm_course.grading.submissions` reads and checks a student's folder (a :class:`Job`),
:mod:`~lstm_course.grading.coordinator` (``lstm-course grade``) runs the jobs on Dask and records each
result, :mod:`~lstm_course.grading.worker` grades one job in a scratch course on a worker,
:mod:`~lstm_course.grading.cells` puts deleted or moved test cells back first,
:mod:`~lstm_course.grading.screen` screens the submitted source for tampering, and
:mod:`~lstm_course.grading.validate` is the student's own check before handing in.
"""
