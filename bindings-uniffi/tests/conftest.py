"""The uniffi-generated Python module: `make uniffi` writes it, with the
library it loads, to target/uniffi/python (or $SANDBOXCORE_UNIFFI_PYTHON)."""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATED = pathlib.Path(
    os.environ.get("SANDBOXCORE_UNIFFI_PYTHON", ROOT / "target" / "uniffi" / "python")
)
if not (GENERATED / "sandboxcore_uniffi.py").exists():
    raise RuntimeError(
        f"no generated module in {GENERATED}: run `make uniffi` (it builds the "
        "library and generates the Python, Kotlin and Swift sources)"
    )
sys.path.insert(0, str(GENERATED))
