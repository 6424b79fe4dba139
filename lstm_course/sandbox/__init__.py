"""Where untrusted code runs: one sandboxed kernel per notebook.

:mod:`~lstm_course.sandbox.bwrap` builds the bubblewrap command and is the supervisor started as
``python -m lstm_course.sandbox.bwrap``, :mod:`~lstm_course.sandbox.kernel` is the nbgrader
``Execute`` preprocessor that runs a notebook in such a kernel, and :mod:`~lstm_course.sandbox.guard`
restores what student code patched, before and after each test cell.

Nothing is imported here: the supervisor's module must not be imported before ``runpy`` runs it.
"""
