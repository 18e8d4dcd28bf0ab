#!/usr/bin/env bash
# Build the Linux one-folder bundle and smoke-test it: installer/build_linux.sh [PYTHON]
#
# PYTHON is an interpreter with the project (non-editable or editable) and the target's
# llama-cpp-python installed (default: .venv/bin/python). Installs PyInstaller into that
# environment, renders the icons, builds dist/gazal-desktop/ and a .tar.gz of it, then runs
# the bundle as a user would: --version, gazal-convert --help, and --self-test offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
case "$PY" in /*) ;; *) PY="$(pwd)/$PY" ;; esac
"$PY" -m pip install -q 'pyinstaller>=6.10,<7'
export QT_QPA_PLATFORM=offscreen
mkdir -p build
"$PY" installer/make_icons.py build/icons
rm -rf dist/gazal-desktop build/pyinstaller
t0=$(date +%s)
# From build/, so the checkout's gazal_desktop/ does not shadow the installed package.
root=$(pwd)
(cd build && "$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$root/dist" \
  --workpath "$root/build/pyinstaller" "$root/installer/gazal-desktop.spec")
echo "bundle built in $(( $(date +%s) - t0 )) s"
install -m 644 build/icons/app-icon.png dist/gazal-desktop/gazal-desktop.png
install -m 644 installer/linux/gazal-desktop.desktop dist/gazal-desktop/gazal-desktop.desktop
install -m 755 installer/linux/install.sh dist/gazal-desktop/install.sh

# Smoke test: the bundle alone, from another folder, with no project on the path.
cd /tmp
env -u PYTHONPATH "$OLDPWD/dist/gazal-desktop/gazal-desktop" --version
env -u PYTHONPATH "$OLDPWD/dist/gazal-desktop/gazal-convert" --help > /dev/null
env -u PYTHONPATH "$OLDPWD/dist/gazal-desktop/gazal-desktop" --self-test
cd "$OLDPWD"
tar -czf dist/gazal-desktop-linux-x86_64.tar.gz -C dist gazal-desktop
du -sh dist/gazal-desktop dist/gazal-desktop-linux-x86_64.tar.gz
