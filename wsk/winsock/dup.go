package winsock

import "github.com/gowsk/gowsk/irp"

// WSADuplicateSocket is WSADuplicateSocket: a protocol info from which
// WSASocket(FromProtocolInfo, …) makes one new SOCKET for the same underlying socket
// (shared options and state; pid is recorded only: one session is one process). The
// info is single use. Until it is used it holds a reference, so the underlying socket
// stays open even if every SOCKET is closed meanwhile; WSACleanup drops the unused ones.
func (t *Thread) WSADuplicateSocket(s Socket, pid uint32) (ProtocolInfo, error) {
	const op = "WSADuplicateSocket"
	e, code := t.call(s)
	if code != 0 {
		return ProtocolInfo{}, wsaErr(op, code)
	}
	defer t.done(e)
	if !e.s.refs.Add() {
		return ProtocolInfo{}, wsaErr(op, irp.WSAENOTSOCK)
	}
	info := e.s.info
	info.dupKey = t.w.dupID.Add(1)
	t.w.dupMu.Lock()
	t.w.dups[info.dupKey] = e.s
	t.w.dupMu.Unlock()
	return info, nil
}

// socketFromInfo is WSASocket(FROM_PROTOCOL_INFO): the reference the info held moves
// to the new SOCKET.
func (w *WSA) socketFromInfo(info *ProtocolInfo) (Socket, WSAError) {
	w.dupMu.Lock()
	s, ok := w.dups[info.dupKey]
	delete(w.dups, info.dupKey)
	w.dupMu.Unlock()
	if !ok || info.dupKey == 0 {
		return InvalidSocket, irp.WSAEINVAL
	}
	h, code := w.addEntry(s)
	if code != 0 {
		w.dropRef(s)
	}
	return h, code
}

// dropRef releases one reference of s without a SOCKET (an unused protocol info): the
// last one closes the socket as WSACleanup would.
func (w *WSA) dropRef(s *sock) {
	if s.refs.Release() {
		w.closeLast(nil, s, nil, true)
	}
}

// dropUnusedInfos releases the references of protocol infos never used (WSACleanup).
func (w *WSA) dropUnusedInfos() {
	w.dupMu.Lock()
	rest := make([]*sock, 0, len(w.dups))
	for k, s := range w.dups {
		rest = append(rest, s)
		delete(w.dups, k)
	}
	w.dupMu.Unlock()
	for _, s := range rest {
		w.dropRef(s)
	}
}
