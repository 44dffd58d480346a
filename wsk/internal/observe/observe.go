// Package observe holds the one provider hook that runs with a socket's lock held: the
// report that the provider keeps an IRP pending. It is made while the lock is held because
// that is the only moment the IRP is certainly still queued (once the lock is dropped the
// loop may complete it, and its owner free it).
//
// User code never runs under a provider lock, so this hook is sealed: its Token parameter
// has a type that only packages of this module can name, and so only they (package
// wsk/wsktrace) can implement it. Every hook an application can implement (wsk.Observer)
// runs with no lock held.
package observe

import (
	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// Token seals Locked: a type outside this module cannot write a method that takes it.
type Token struct{}

// Locked is the sealed hook. Pending is called with the socket's lock held, at
// IoMarkIrpPending time: it must not block, call the provider or run application code.
type Locked interface {
	Pending(ws *dispatch.Socket, i *irp.IRP, _ Token)
}
