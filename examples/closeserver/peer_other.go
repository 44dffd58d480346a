//go:build !windows

package main

import "syscall"

// osErrnoNames: on Unix the errnos of errnoNames are the ones the OS reports
// (peer_windows.go has Windows's).
var osErrnoNames map[syscall.Errno]string
