"""The static screen (lstm_course.grading.screen): no finding on honest code, a finding on every known attack.

Fast: no kernels. Honest code is every notebook in solutions/ and exercises/, every answer in
tests/exercise_cases/ filled into its notebook, and a list of honest but unusual snippets.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import runpy
from pathlib import Path

import pytest

from lstm_course.course import fill_release, nbmeta
from lstm_course.grading.screen import ALIASES, HELPER_NAMES, screen_notebook, screen_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted((ROOT / "exercises").glob("*/*.ipynb"))
CASES = {p.stem: runpy.run_path(str(p)) for p in sorted((ROOT / "tests" / "exercise_cases").glob("[!_]*.py"))}


def _nb(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _locked_cells():
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in _nb(path)["cells"]:
            if cell["cell_type"] == "code" and nbmeta(cell).get("locked") and not nbmeta(cell).get("grade"):
                yield ast.parse("".join(cell["source"]))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a function or class of a module, not a submodule
        return False


def test_helper_names_are_what_the_locked_cells_define():
    """HELPER_NAMES: every function and class the set-up cells define, and every name they import from
    lstm_ref that is not a module. A new helper must be added to the constant."""
    defined = set()
    for tree in _locked_cells():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.ImportFrom) and node.module.startswith("lstm_ref"):
                for a in node.names:
                    if not _is_module(f"{node.module}.{a.name}"):
                        defined.add(a.asname or a.name)
    assert defined == HELPER_NAMES


def test_aliases_cover_the_locked_cells_imports():
    """Every module alias the set-up cells bind (``np``, ``nn``, ...) is known to the screen."""
    for tree in _locked_cells():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    assert a.asname is None or ALIASES.get(a.asname) == a.name, a.asname
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    bound = a.asname or a.name
                    assert bound in HELPER_NAMES or ALIASES.get(bound) == f"{node.module}.{a.name}", bound


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_course_notebooks_have_no_finding(path):
    assert screen_notebook(_nb(path)) == []


def _case_answers():
    for assignment, case in CASES.items():
        for name, answers in case.get("WRONG", {}).items():
            yield assignment, f"WRONG:{name}", answers
        for key in ("WARNS", "LOOP"):
            if case.get(key):
                yield assignment, key, case[key]


@pytest.mark.parametrize(
    "assignment,name,answers", list(_case_answers()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_case_answers_have_no_finding(assignment, name, answers):
    nb_name = CASES[assignment]["NOTEBOOK"]
    release, source = (_nb(ROOT / d / assignment / nb_name) for d in ("exercises", "solutions"))
    found = screen_notebook(fill_release(release, source, answers))
    assert found == [], f"{assignment} {name}: {found}"


HONEST = {
    "stderr": "import sys\nprint('debug', file=sys.stderr)\n",
    "logging": "import logging\nlogging.warning('called with %d rows', 2)\n",
    "warnings": "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('always')\n"
    "    warnings.warn('slow', RuntimeWarning)\nwarnings.filterwarnings('ignore')\n",
    "tqdm": "from tqdm.auto import tqdm\nfor _ in tqdm(range(3), desc='steps'):\n    pass\n",
    "matplotlib": "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (4, 3)\n",
    "shell_escape": "!pip list\nfiles = !ls\n%timeit np.zeros(3)\nnp.zeros?\n",
    "cell_magic": "%%time\nx = np.arange(10).reshape(2, 5)\n",
    "bash_magic": "%%bash\necho settrace builtins\n",
    "display": "from IPython.display import display, HTML, Markdown, clear_output\nimport IPython.display\n"
    "display(HTML('<b>x</b>'))\nclear_output(wait=True)\n",
    "getattr_computed": "def weights(model, k):\n    return getattr(model, f'weight_ih_l{k}'), getattr(model, 'bias')\n",
    "shadow_builtins": "sum = 0\ninput = np.zeros(3)\nmax = 3\nlen_ = len([1])\nlist = [1, 2]\n",
    "syntax_error": "def f(x)\n    return np.zeros(x)\nmodel.compile(optimizer='adam')\nmodel.eval()\n",
    "seeds": "np.random.seed(0)\ntorch.manual_seed(0)\nkeras.utils.set_random_seed(0)\n"
    "np.set_printoptions(precision=3)\ntorch.backends.cudnn.deterministic = True\n",
    "environment": "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nimport time\ntime.sleep(0.1)\n",
    "torch_class": "class Net(nn.Module):\n    def __init__(self, hidden):\n        super().__init__()\n"
    "        self.lstm = nn.LSTM(1, hidden, batch_first=True)\n        self.head = nn.Linear(hidden, 1)\n"
    "    def forward(self, x):\n        out, _ = self.lstm(x)\n        return self.head(out)\n",
    "keras_objects": "model = keras.Sequential([keras.layers.LSTM(4, stateful=True)])\n"
    "model.trainable = False\nlayer = model.layers[0]\nlayer.stateful = True\nmodel.run_eagerly = True\n",
    "own_helpers": "import numpy as np\nfrom torch import nn\nimport tensorflow as tf\n"
    "from lstm_ref.feedback import assert_close\nassert_close(np.ones(2), np.ones(2))\n",
    "gc_collect": "import gc\ngc.collect()\nimport inspect\nsig = inspect.signature(np.zeros)\n",
    "strings": "msg = 'assert the shapes match: run_cell, kernel, events'\nprint(f'{msg}!')\n",
    "keyword_names": "def f(x, type=None, id=0):\n    return [v for v in x if v], type, id\n",
    "pandas": "import pandas as pd\npd.options.display.max_rows = 10\n",
    "help": "?np.zeros\nx = 1  # why?\n",
    "namespace_reads": "if 'model' in globals():\n    print(len(globals()), globals().get('x'), sorted(globals()))\n"
    "for name in list(globals()):\n    pass\ndef show(o):\n    d = locals()\n    return vars(o), d\n"
    "from pprint import pprint\npprint(globals())\ndisplay(sorted(globals()))\n",
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_snippets_have_no_finding(name):
    found = screen_source(HONEST[name])
    assert found == [], found


ATTACKS = {
    "input_transformer": 'get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"] if "assert" in '
    '"".join(lines) else lines)',
    "ast_transformer": "import ast\nclass T(ast.NodeTransformer):\n    pass\nip = get_ipython()\n"
    "ip.ast_transformers.append(T())",
    "events": 'get_ipython().events.register("pre_run_cell", f)',
    "run_cell": "get_ipython().run_cell = lambda *a, **k: None",
    "showtraceback": "from IPython.core.interactiveshell import InteractiveShell\n"
    "InteractiveShell.showtraceback = lambda *a, **k: None",
    "custom_exc": "get_ipython().set_custom_exc((AssertionError,), h)",
    "assertion_class": "class AssertionError(Exception):\n    pass",
    "builtins_module": "import builtins\nbuiltins.AssertionError = Exception",
    "dunder_builtins": "__builtins__.AssertionError = X",
    "settrace": "import sys\nsys.settrace(f)",
    "np_testing": "np.testing.assert_allclose = lambda *a, **k: None",
    "npt_alias": "import numpy.testing as npt\nnpt.assert_allclose = f",
    "setattr_module": 'setattr(np.testing, "assert_allclose", f)',
    "vars_module": 'vars(np.testing)["assert_allclose"] = f',
    "helper_rebound": "assert_close = lambda *a, **k: None",
    "code_swap": "import lstm_ref.feedback as fb\nfb.assert_close.__code__ = (lambda *a, **k: None).__code__",
    "gc_snapshot": 'import gc\n[o for o in gc.get_objects() if isinstance(o, dict) and "_lstm_course_guard" in o]',
    "sys_modules": 'sys.modules["numpy.testing"] = fake',
    "base64_exec": "import base64\nexec(base64.b64decode(b'aW1wb3J0IHN5cw=='))",
    "computed_import": 'getattr(__import__("s" + "ys"), "set" + "trace")(f)',
    "torch_allclose": "torch.allclose = lambda *a, **k: True",
    "keras_ops": "keras.ops.convert_to_numpy = f",
    "kernel_session": "get_ipython().kernel.session.send(stream, 'execute_reply', content)",
    "global_in_function": "def sneaky():\n    def inner():\n        global assert_close\n        assert_close = print\n"
    "    inner()",
    "guard_names": "x = globals().get('_lstm_course_guard')",
    "shell_alias": "from IPython import get_ipython as g\nsh = g()\nsh.events.callbacks.clear()",
    "type_of_shell": "type(get_ipython()).run_cell = f",
    "getattr_shell": 'getattr(get_ipython(), "ast_transformers").append(t)',
    "module_alias": "t = np.testing\nt.assert_allclose = f",
    "frames": "import sys\nsys._getframe(1).f_globals['assert_close'] = f",
    "excepthook": "import sys\nsys.excepthook = lambda *a: None",
    "globals_write": "globals()['assert_close'] = f",
    "importlib": "import importlib\nm = importlib.import_module('numpy.testing')",
    "seq_model_method": "SeqModel.forward = lambda self, x, state=None: (x, state)",
    "nn_lstm_method": "nn.LSTM.forward = f",
    "warnings_showwarning": "import warnings\nwarnings.showwarning = f",
    "run_magic": "%run helper.py",
    "writefile": "%%writefile helper.py\nimport sys\nsys.settrace(f)\n",
    "magic_time": "%time sys.settrace(f)",
    "syntax_error_hides": "def f(x)\n    return x\nsys.settrace(f)\nget_ipython().input_transformers_post.append(g)",
    "autocall_escape": "/sys.settrace f",
    "send_multipart": "get_ipython().kernel.iopub_socket.send_multipart(msg)",
    "ctypes": "import ctypes\nctypes.pythonapi.PyFrame_LocalsToFast",
    "os_exit": "import os\nos._exit(0)",
    "eval_alias": "e = eval\ne('1')",
    # the user namespace kept under another name, then written through it: names the grader looks up
    "namespace_alias": "_g = globals()\n_g.update({'__imp' + 'ort__': f})",
    "namespace_passed": "def put(ns, k, v):\n    ns[k] = v\nput(globals(), 'assert' + '_close', f)",
    "locals_alias": "d = locals()\nd['assert' + '_close'] = f",
    "vars_module_alias": "d = vars(np.testing)\nd['assert_allclose'] = f",
    "main_module": "import __main__\n__main__.assert_close = f",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_found(name):
    found = screen_source(ATTACKS[name], cell="answer")
    assert found, f"{name}: no finding"
    assert all(f.cell == "answer" and f.line >= 1 and f.what and f.why for f in found), found


def test_findings_name_the_construct_and_line():
    assert screen_source("x = 1\nimport sys\n") == []  # importing sys is honest
    found = screen_source("x = 1\n\nsys.settrace(f)\n", cell="c")
    assert [(f.cell, f.line, f.what) for f in found] == [("c", 3, "sys.settrace")]
    (f,) = screen_source(ATTACKS["input_transformer"])
    assert f.what == "get_ipython().input_transformers_post" and "IPython" in f.why


def test_notebook_cells_are_labelled_and_test_cells_skipped():
    nb = _nb(ROOT / "solutions" / "gates" / "gates.ipynb")
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "sys.settrace(f)\n"})
    step = next(c for c in nb["cells"] if nbmeta(c).get("grade_id") == "lstm_step")
    step["source"] += "\nnp.testing.assert_allclose = f\n"
    found = screen_notebook(nb)
    assert {(f.cell, f.what) for f in found} == {
        (f"cell {len(nb['cells'])}", "sys.settrace"),
        ("lstm_step", "np.testing.assert_allclose = ..."),
    }


def test_forged_locked_cell_is_screened():
    """A cell marked locked without a grade_id (or with one the course does not lock) is screened."""
    cell = {"cell_type": "code", "metadata": {"nbgrader": {"locked": True}}, "source": "sys.settrace(f)"}
    assert screen_notebook({"cells": [cell]})
    cell["metadata"]["nbgrader"]["grade_id"] = "mine"
    assert not screen_notebook({"cells": [cell]})
    assert screen_notebook({"cells": [cell]}, locked_ids={"setup"})


@pytest.mark.parametrize("source", ["", "\x00", "(" * 500, "%%", "def f(:\n" * 300, "'''", "x = [\n"])
def test_never_raises(source):
    assert isinstance(screen_source(source), list)
