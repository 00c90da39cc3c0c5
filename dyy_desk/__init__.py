"""DYY Desk — 代运营客服工作台."""

import os as _os

# numpy's BLAS gets one thread: the sentence encoder multiplies small matrices, where handing work to
# other threads costs more than it saves (and the app's other workers want the second core). Set
# before anything imports numpy (openpyxl does, when it is installed).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

# The one place the version is written: pyproject reads it (dynamic version), and the app does not
# pay for importlib.metadata (about 40 ms) on every start.
__version__ = "0.1.0"
