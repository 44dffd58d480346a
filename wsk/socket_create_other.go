//go:build !unix && !windows

package wsk

import (
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// On systems without an engine (Plan 9, js, wasip1) Register already fails with
// STATUS_NOT_SUPPORTED; these members exist so the provider table compiles everywhere.

func wskSocket(c *dispatch.Client, family, sotype, protocol int, flags dispatch.SocketFlags,
	socketContext any, clientDispatch any, i *irp.IRP) irp.Status {
	return rejectClientCall(i, irp.NotSupported)
}

func wskSocketConnect(c *dispatch.Client, sotype, protocol int, local, remote netip.AddrPort,
	flags dispatch.SocketFlags, socketContext any, clientDispatch *dispatch.ClientConnectionDispatch,
	i *irp.IRP) irp.Status {
	return rejectClientCall(i, irp.NotSupported)
}
