#!/usr/bin/env bash
# Build "Gazal Desktop.app" and a .dmg on macOS (not run here: no Mac).
#   bash installer/macos/build_macos.sh
# On Apple silicon llama-cpp-python builds with Metal by default (Xcode command-line tools
# needed); the self-test prints "Metal" when it is inside. Needs create-dmg (brew install create-dmg).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -m venv .venv-bundle
PY=.venv-bundle/bin/python
$PY -m pip install --upgrade pip
CMAKE_ARGS="-DGGML_METAL=on" $PY -m pip install llama-cpp-python
$PY -m pip install . 'pyinstaller>=6.10,<7' pillow
QT_QPA_PLATFORM=offscreen $PY installer/make_icons.py build/icons
(cd build && "../$PY" -m PyInstaller --noconfirm --distpath ../dist --workpath pyinstaller ../installer/gazal-desktop.spec)
"dist/Gazal Desktop.app/Contents/MacOS/gazal-desktop" --self-test
version=$($PY -c "import gazal_desktop; print(gazal_desktop.__version__)")
arch=$(uname -m)
rm -f "dist/gazal-desktop-$version-macos-$arch.dmg"
create-dmg --volname "Gazal Desktop" --app-drop-link 450 180 --icon "Gazal Desktop.app" 150 180 \
  "dist/gazal-desktop-$version-macos-$arch.dmg" "dist/Gazal Desktop.app"
# Signing and notarization need a Developer ID: codesign --deep --options runtime -s "$IDENTITY" ...;
# xcrun notarytool submit ... --wait; xcrun stapler staple the .dmg.
