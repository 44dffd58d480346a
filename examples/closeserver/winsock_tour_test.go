//go:build linux

package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// winsockTourTranscript is the Winsock tour's full output (-api winsock, no -listen).
const winsockTourTranscript = `A Winsock session (package wsk/winsock: SOCKETs over wsk) and a plain net.Conn
peer. Each step: what the application called and got, and what the peer read.
== 1. closesocket with the default linger {0,*}: at once; data and FIN follow
   app:  WSASend of 8000000 bytes, overlapped -> WSA_IO_PENDING 997
   app:  closesocket -> ok (the peer has not read anything yet)
   peer: read 8000000 bytes, then EOF
   app:  the pending WSASend completed -> WSA_OPERATION_ABORTED 995 (its bytes went out as queued data)
   the background close ended when the peer's FIN came: graceful closes 1, resets 0
== 2. linger {1,0}: a hard close, RST at once, no TIME_WAIT
   app:  setsockopt(SO_LINGER {1,0}) -> ok
   app:  closesocket -> ok
   peer: read: ECONNRESET
== 3. linger {1,1}, the peer not reading: closesocket waits, resets, returns 0
   app:  setsockopt(SO_LINGER {1,1}) -> ok
   app:  WSASend of 8000000 bytes, overlapped -> WSA_IO_PENDING 997
   app:  closesocket -> ok, after waiting the linger time: true
   peer: read some bytes, then ECONNRESET
== 4. nonblocking, linger {1,5}, data not delivered: WSAEWOULDBLOCK, SOCKET kept
   app:  setsockopt(SO_LINGER {1,5}) -> ok
   app:  WSASend of 8000000 bytes, overlapped -> WSA_IO_PENDING 997
   app:  ioctlsocket(FIONBIO 1) -> ok
   app:  closesocket -> WSAEWOULDBLOCK 10035
   app:  closesocket again -> WSAEWOULDBLOCK 10035
   app:  getsockname -> ok (still a SOCKET)
   app:  setsockopt(SO_LINGER {1,0}) -> ok
   app:  closesocket -> ok
   peer: read some bytes, then ECONNRESET (no FIN came first)
== 5. shutdown(SD_SEND): FIN after the data; sends refused, receives go on
   app:  send "bye" -> ok
   app:  shutdown(SD_SEND) -> ok
   app:  send -> WSAESHUTDOWN 10058
   peer: read "bye", then EOF
   app:  recv -> ok "answer"
   app:  shutdown(7) -> WSAEINVAL 10022
   app:  closesocket -> ok
== 6. A duplicated SOCKET: a non-last close sends nothing; the last one lingers
   app:  WSADuplicateSocket -> ok
   app:  WSASocket(FROM_PROTOCOL_INFO) -> ok
   app:  WSASocket(FROM_PROTOCOL_INFO) with the same info -> WSAEINVAL 10022 (single use)
   app:  closesocket(original) -> ok
   peer: read: i/o timeout (nothing was sent)
   app:  send on the duplicate -> ok
   app:  closesocket(duplicate), the last: default linger -> ok
   peer: read 17 bytes, then EOF
== 7. closesocket with overlapped receives pending (completion routines)
   app:  WSARecv with a completion routine -> WSA_IO_PENDING 997
   app:  WSARecv with a completion routine -> WSA_IO_PENDING 997
   app:  WSARecv with a completion routine -> WSA_IO_PENDING 997
   app:  closesocket -> ok; routines run so far: 0 (no alertable point yet)
   app:  SleepEx(alertable) -> WAIT_IO_COMPLETION: true; routines run: 3, with WSA_OPERATION_ABORTED: 3
   peer: read: EOF
WSACleanup -> ok; resets by cause: linger expiry 1, late data 0, FIN timeout 0
`

// The Winsock tour prints exactly this, every time: no ports, no timings.
func TestWinsockTour(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, tourWinsock(&out))
	require.Equal(t, winsockTourTranscript, out.String())
}
