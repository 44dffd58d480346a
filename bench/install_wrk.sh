#!/bin/sh
# Installs wrk (Debian package "wrk"), the HTTP load generator the http suite runs next
# to its own loader. The suite skips its wrk rows when wrk is not on PATH.
set -e
if command -v wrk >/dev/null 2>&1; then
	wrk --version 2>&1 | head -1 || true
	exit 0
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends wrk
wrk --version 2>&1 | head -1 || true
