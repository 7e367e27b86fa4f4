# Sourced by scripts/serve and scripts/test: make .venv and install the pinned requirements.
# Reinstalls only when the requirements files change (a hash stamp in .venv).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
requirements="${1:-requirements.txt}"

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  # A name on PATH may be a shim that fails (pyenv): take the first one that really runs.
  for candidate in python3 python3.13 python3.12 python3.11; do
    if new_enough "$candidate"; then python_bin="$candidate"; break; fi
  done
fi
if [ -z "$python_bin" ] || ! new_enough "$python_bin"; then
  echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $python_bin" >&2
  "$python_bin" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$requirements")"
want="$(cat requirements.txt "$requirements" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing $requirements into .venv" >&2
  .venv/bin/python -m pip install --disable-pip-version-check -q -r "$requirements"
  echo "$want" > "$stamp"
fi
