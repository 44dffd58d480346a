# Sourced by .ci/wine/setup and .ci/wine/exec: where the prefix lives and which Wine runs it.
#
# GOWSK_WINEPREFIX overrides the prefix (default: a cache directory, so that it survives
# between runs; setup makes it once). GOWSK_WINE and GOWSK_WINESERVER override the binaries.

wine_prefix=${GOWSK_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/gowsk/wine64-prefix}

# wine_find sets WINE_BIN and WINESERVER_BIN, or returns 1 when Wine is not installed.
# Debian installs the 64-bit loader as /usr/lib/wine/wine64 and /usr/bin/wine prefers a
# 32-bit one; other distributions put wine64 (or a wine that is 64-bit) on PATH.
wine_find() {
  WINE_BIN=${GOWSK_WINE:-}
  WINESERVER_BIN=${GOWSK_WINESERVER:-}
  if [ -z "$WINE_BIN" ]; then
    for c in /usr/lib/wine/wine64 "$(command -v wine64 2>/dev/null)" "$(command -v wine 2>/dev/null)"; do
      if [ -n "$c" ] && [ -x "$c" ]; then WINE_BIN=$c; break; fi
    done
  fi
  if [ -z "$WINESERVER_BIN" ]; then
    for c in /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver "$(command -v wineserver 2>/dev/null)"; do
      if [ -n "$c" ] && [ -x "$c" ]; then WINESERVER_BIN=$c; break; fi
    done
  fi
  [ -n "$WINE_BIN" ] && [ -n "$WINESERVER_BIN" ]
}

export WINEPREFIX=$wine_prefix
export WINEARCH=win64
export WINEDEBUG=${WINEDEBUG:--all}
