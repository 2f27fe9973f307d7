#!/bin/sh
# Add inspector to the desktop's application menu for this user (run from the unpacked
# tarball): the .desktop file, pointing at this folder's executable, and the icons.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications"
sed "s|^Exec=inspector|Exec=\"$here/inspector\"|" "$here/inspector.desktop" \
  > "$data/applications/inspector.desktop"
for icon in "$here"/icons/hicolor/*/apps/inspector.*; do
  size=$(basename "$(dirname "$(dirname "$icon")")")
  mkdir -p "$data/icons/hicolor/$size/apps"
  cp "$icon" "$data/icons/hicolor/$size/apps/"
done
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
echo "inspector added to the application menu ($data/applications/inspector.desktop)"
