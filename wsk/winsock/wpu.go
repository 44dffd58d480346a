package winsock

import (
	"sync"

	"github.com/gowsk/gowsk/irp"
)

// wpuEntry is one WPUCreateSocketHandle handle: the provider's context and the
// completion port the application associated with the socket (CreateIoCompletionPort
// on the SOCKET is recorded on the top provider's handle, the one
// WPUCompleteOverlappedRequest is called with).
type wpuEntry struct {
	catalogID uint32
	ctx       any

	mu   sync.Mutex
	port *CompletionPort
	key  uintptr
}

func (w *WSA) knownCatalogID(id uint32) bool {
	if id == 1001 {
		return true
	}
	return id >= 2001 && int(id-2001) < len(w.cfg.layers)
}

// upcalls builds the WPU table of the session.
func (w *WSA) upcalls() *Upcalls {
	return &Upcalls{
		CloseSocketHandle: func(s Socket) WSAError {
			if !w.up2() {
				return irp.WSANOTINITIALISED
			}
			if _, ok := w.wpu.remove(uint64(s)); !ok {
				return irp.WSAENOTSOCK
			}
			return 0
		},
		CreateSocketHandle: func(id uint32, ctx any) (Socket, WSAError) {
			if !w.up2() {
				return InvalidSocket, irp.WSANOTINITIALISED
			}
			if !w.knownCatalogID(id) {
				return InvalidSocket, irp.WSAEINVAL
			}
			h, ok := w.wpu.add(&wpuEntry{catalogID: id, ctx: ctx})
			if !ok {
				return InvalidSocket, irp.WSAENOBUFS
			}
			return Socket(h), 0
		},
		QuerySocketHandleContext: func(s Socket) (any, WSAError) {
			if !w.up2() {
				return nil, irp.WSANOTINITIALISED
			}
			e, ok := w.wpu.get(uint64(s))
			if !ok {
				return nil, irp.WSAENOTSOCK
			}
			return e.ctx, 0
		},
		OpenCurrentThread: func() (*Thread, WSAError) {
			if !w.up2() {
				return nil, irp.WSANOTINITIALISED
			}
			t := &Thread{w: w, wake: make(chan struct{}, 1)}
			h, ok := w.threads.add(t)
			if !ok {
				return nil, irp.WSAENOBUFS
			}
			t.id = h
			return t, 0
		},
		CloseThread: func(tid ThreadID) WSAError {
			if !w.up2() {
				return irp.WSANOTINITIALISED
			}
			t, ok := w.threads.remove(tid.Handle)
			if !ok {
				return irp.WSAEINVAL
			}
			t.close()
			return 0
		},
		QueueApc: func(tid ThreadID, fn APCFunc, ctx uintptr, data any) WSAError {
			if !w.up2() {
				return irp.WSANOTINITIALISED
			}
			t, ok := w.threads.get(tid.Handle)
			if !ok || fn == nil {
				return WSAEFAULT
			}
			return t.queue(apc{fn: fn, ctx: ctx, data: data})
		},
		CompleteOverlappedRequest: func(s Socket, ov *Overlapped, err WSAError, bytes uint32) WSAError {
			if !w.up2() {
				return irp.WSANOTINITIALISED
			}
			e, ok := w.wpu.get(uint64(s))
			if !ok {
				return irp.WSAEINVAL
			}
			if ov == nil {
				return WSAEFAULT
			}
			if !ov.SetResult(err, bytes, 0) {
				w.ctr.doubleCompletions.Add(1)
				return irp.WSAEINVAL
			}
			e.mu.Lock()
			port, key := e.port, e.key
			e.mu.Unlock()
			switch {
			case port != nil:
				if !port.post(Packet{Bytes: bytes, Key: key, Overlapped: ov, Err: err}) {
					w.ctr.packetsDropped.Add(1)
				}
			case ov.Event != nil:
				WSASetEvent(ov.Event)
			}
			return 0
		},
	}
}

// up2 is the WPU prologue: upcalls work from WSAStartup until the end of WSACleanup's
// provider cleanups (providers close their handles in WSPCleanup).
func (w *WSA) up2() bool { return !w.dead.Load() }
