#!/usr/bin/env bash
# Per-user install of the unpacked bundle: ./install.sh (no root needed).
# Copies the folder to ~/.local/share/gazal-desktop, links both programs into ~/.local/bin
# and adds the menu entry. Remove with: rm -rf ~/.local/share/gazal-desktop
# ~/.local/bin/gazal-desktop ~/.local/bin/gazal-convert ~/.local/share/applications/gazal-desktop.desktop
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
dest=${XDG_DATA_HOME:-$HOME/.local/share}/gazal-desktop
bin=$HOME/.local/bin
mkdir -p "$dest" "$bin" "${XDG_DATA_HOME:-$HOME/.local/share}/applications" "${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
if [[ "$src" != "$dest" ]]; then
  rm -rf "$dest.new" && cp -a "$src" "$dest.new" && rm -rf "$dest" && mv "$dest.new" "$dest"
fi
ln -sf "$dest/gazal-desktop" "$bin/gazal-desktop"
ln -sf "$dest/gazal-convert" "$bin/gazal-convert"
install -m 644 "$dest/gazal-desktop.png" "${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps/gazal-desktop.png"
sed "s|^Exec=.*|Exec=$dest/gazal-desktop|" "$dest/gazal-desktop.desktop" \
  > "${XDG_DATA_HOME:-$HOME/.local/share}/applications/gazal-desktop.desktop"
echo "Installed to $dest. Run gazal-desktop (make sure ~/.local/bin is on your PATH)."
if ! ldconfig -p 2>/dev/null | grep -q libxcb-cursor.so.0; then
  echo "Qt needs these on X11: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libegl1 (Debian/Ubuntu)"
fi
