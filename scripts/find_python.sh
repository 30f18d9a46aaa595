#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs 3.8 to 3.10).
# Looks on PATH, then in pyenv, then asks uv; says what to install when none is found.
set -u

is_310() { "$@" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
real_path() { "$@" -c 'import sys; print(sys.executable)'; }

if [ -n "${PYTHON310:-}" ] && is_310 "$PYTHON310"; then real_path "$PYTHON310"; exit 0; fi
for candidate in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  if command -v "$candidate" >/dev/null 2>&1 && is_310 "$candidate"; then real_path "$candidate"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -V -r); do
    root=$(pyenv root)
    if is_310 "$root/versions/$version/bin/python3.10"; then echo "$root/versions/$version/bin/python3.10"; exit 0; fi
  done
fi
if command -v uv >/dev/null 2>&1; then
  found=$(uv python find 3.10 2>/dev/null) && is_310 "$found" && { echo "$found"; exit 0; }
fi
cat >&2 <<'MSG'
error: no Python 3.10 found (Rasa 3.6 runs on Python 3.8 to 3.10 only).
Install one of:
  - pyenv:  pyenv install 3.10.13
  - uv:     pip install uv && uv python install 3.10
  - Debian: a python3.10 package from your distribution, if it offers one
or point PYTHON310 at an existing python3.10 and run make again.
MSG
exit 1
