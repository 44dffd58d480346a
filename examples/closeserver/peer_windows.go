package main

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// osErrnoNames names what package net reports on Windows, where a connection's end comes
// as a Winsock code (syscall.ECONNRESET is another number there), by the Unix name the
// transcript prints. WSAESHUTDOWN is how Wine reports the EPIPE of its Linux host: a send
// on a reset connection.
var osErrnoNames = map[syscall.Errno]string{
	windows.WSAECONNRESET:   "ECONNRESET",
	windows.WSAECONNABORTED: "ECONNABORTED",
	windows.WSAETIMEDOUT:    "ETIMEDOUT",
	windows.WSAESHUTDOWN:    "EPIPE",
}
