package wsk

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
)

// providerTable builds the WSK_PROVIDER_DISPATCH handed out by CaptureProviderNPI. The
// members are methods bound to r, so the table is built once per registration.
func (r *Registration) providerTable() dispatch.ProviderDispatch {
	return dispatch.ProviderDispatch{
		Version:         providerVersion,
		Socket:          wskSocket,
		SocketConnect:   wskSocketConnect,
		ControlClient:   wskControlClient,
		GetAddressInfo:  wskGetAddressInfo,
		FreeAddressInfo: wskFreeAddressInfo,
		GetNameInfo:     wskGetNameInfo,
	}
}

// transportEntrySize is sizeof(WSK_TRANSPORT): Version USHORT, SocketType USHORT,
// Protocol ULONG, AddressFamily USHORT, 2 bytes of padding, ProviderId GUID.
const transportEntrySize = 28

// transports lists what WSK_TRANSPORT_LIST_QUERY reports: TCP and UDP over IPv4 and IPv6.
var transports = []struct{ sotype, proto, family uint16 }{
	{SockStream, IPProtoTCP, AFInet},
	{SockStream, IPProtoTCP, AFInet6},
	{SockDgram, IPProtoUDP, AFInet},
	{SockDgram, IPProtoUDP, AFInet6},
}

// wskControlClient is WskControlClient. Whether the IRP is required or forbidden depends
// on the code (SPEC.md §2.3); a wrong choice gives STATUS_INVALID_PARAMETER (with the IRP, if
// any, completed).
func wskControlClient(c *dispatch.Client, code dispatch.ClientControl, in, out []byte,
	outReturned *int, i *irp.IRP) irp.Status {
	r := regOf(c)
	if r == nil {
		return rejectClientCall(i, irp.InvalidParameter)
	}
	if !r.enterCall() {
		return rejectClientCall(i, irp.DeviceNotReady)
	}
	switch code {
	case dispatch.TransportListChange:
		// IRP required; it stays queued until a transport changes (never, here) or
		// Deregister cancels it. The call's rundown reference passes to the IRP.
		if st := enterIRP(i); st != irp.Success {
			r.leaveCall()
			return st
		}
		return r.queueListChange(i)
	case dispatch.TransportListQuery:
		defer r.leaveCall()
		if i != nil {
			return rejectClientCall(i, irp.InvalidParameter)
		}
		need := len(transports) * transportEntrySize
		if outReturned != nil {
			*outReturned = need
		}
		if len(out) < need {
			return irp.BufferOverflow
		}
		for k, t := range transports {
			e := out[k*transportEntrySize : (k+1)*transportEntrySize]
			clear(e)
			binary.LittleEndian.PutUint16(e[0:], providerVersion)
			binary.LittleEndian.PutUint16(e[2:], t.sotype)
			binary.LittleEndian.PutUint32(e[4:], uint32(t.proto))
			binary.LittleEndian.PutUint16(e[8:], t.family)
		}
		return irp.Success
	case dispatch.SetStaticEventCallbacks:
		defer r.leaveCall()
		return r.setStaticEvents(in, i) // events_static.go
	default:
		defer r.leaveCall()
		if i != nil {
			return rejectClientCall(i, irp.InvalidParameter)
		}
		// Security descriptors and the TDI codes are not implemented by this provider.
		return irp.NotSupported
	}
}

// rejectClientCall fails a client-level call: the IRP (if any) is entered and completed
// with st, and st is returned.
func rejectClientCall(i *irp.IRP, st irp.Status) irp.Status {
	if i == nil {
		return st
	}
	if e := enterIRP(i); e != irp.Success {
		return e
	}
	return failIRP(i, st)
}

// beginClientCall opens a provider-level call that takes an IRP: it takes a call reference
// on the registration (the caller gives it back with r.leaveCall, now or when its IRP
// completes) and enters i. ok is false when the call must not go on; st is then the
// status to return, with i completed (a nil client or IRP: STATUS_INVALID_PARAMETER;
// deregistration begun: STATUS_DEVICE_NOT_READY).
func beginClientCall(c *dispatch.Client, i *irp.IRP) (r *Registration, st irp.Status, ok bool) {
	r = regOf(c)
	if r == nil || i == nil {
		return nil, rejectClientCall(i, irp.InvalidParameter), false
	}
	if !r.enterCall() {
		return nil, rejectClientCall(i, irp.DeviceNotReady), false
	}
	if st := enterIRP(i); st != irp.Success {
		r.leaveCall()
		return nil, st, false
	}
	return r, irp.Success, true
}

// queueListChange parks a WSK_TRANSPORT_LIST_CHANGE IRP until it is cancelled (by its
// owner or by Deregister). The caller holds a call reference, which the IRP keeps.
func (r *Registration) queueListChange(i *irp.IRP) irp.Status {
	i.MarkPending()
	r.ctr.irpsPending.Add(1)
	r.mu.Lock()
	r.listChange[i] = struct{}{}
	r.mu.Unlock()
	i.SetCancelRoutine(r.cancelListChange)
	// A Deregister that began while this call was on its way may have looked at the map
	// before the IRP was in it, or before its cancel routine was set (then it skipped
	// it): the IRP would stay pending and Deregister wait for it forever. deregistering
	// is set before Deregister looks, so checking it here, after the routine is set,
	// closes the gap; SetCancelRoutine(nil) decides who completes the IRP.
	if (i.Cancelled() || r.deregistering.Load()) && i.SetCancelRoutine(nil) != nil {
		r.cancelListChange(i)
	}
	return irp.Pending
}

// cancelListChange is the cancel routine of a queued list-change IRP: whoever removes the
// IRP from the map owns it and completes it.
func (r *Registration) cancelListChange(i *irp.IRP) {
	r.mu.Lock()
	_, mine := r.listChange[i]
	delete(r.listChange, i)
	r.mu.Unlock()
	if !mine {
		return
	}
	r.ctr.irpEnded(irp.Cancelled)
	i.Complete(irp.Cancelled, 0)
	r.leaveCall()
}

// cancelListChanges cancels every queued list-change IRP (invariant 5).
func (r *Registration) cancelListChanges() {
	r.mu.Lock()
	var all []*irp.IRP
	for i := range r.listChange {
		all = append(all, i)
	}
	r.mu.Unlock()
	for _, i := range all {
		// Take the cancel routine back; nil means the owner's Cancel is running it.
		if i.SetCancelRoutine(nil) != nil {
			r.cancelListChange(i)
		}
	}
}

// runResolver runs fn on a goroutine of its own (name resolution blocks), with a context
// the IRP's cancellation cancels, and completes the IRP with fn's status. The caller has
// entered the IRP and holds a call reference, which passes to the goroutine. The IRP is
// pending when this returns.
func (r *Registration) runResolver(i *irp.IRP, fn func(ctx context.Context) irp.Status) irp.Status {
	i.MarkPending()
	r.ctr.irpsPending.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	// The cancel routine only cancels ctx: the IRP stays owned by the goroutine, which
	// always completes it (with STATUS_CANCELLED when the lookup was cut short).
	i.SetCancelRoutine(func(*irp.IRP) { cancel() })
	if i.Cancelled() {
		cancel()
	}
	go func() {
		defer r.leaveCall()
		st := fn(ctx)
		i.SetCancelRoutine(nil)
		cancel()
		r.ctr.irpEnded(st)
		i.Complete(st, 0)
	}()
	return irp.Pending
}

// wskGetAddressInfo is WskGetAddressInfo: net.DefaultResolver on a goroutine. hints may
// narrow the family (AFInet/AFInet6), socket type and protocol. *result is set before the
// IRP completes with success and stays valid until FreeAddressInfo.
func wskGetAddressInfo(c *dispatch.Client, node, service string, nameSpace uint32,
	hints *dispatch.AddrInfo, result **dispatch.AddrInfo, i *irp.IRP) irp.Status {
	r, st, ok := beginClientCall(c, i)
	if !ok {
		return st
	}
	if result == nil || (node == "" && service == "") {
		r.leaveCall()
		return failIRP(i, irp.InvalidParameter)
	}
	var h dispatch.AddrInfo
	if hints != nil {
		h = *hints
	}
	return r.runResolver(i, func(ctx context.Context) irp.Status {
		port := 0
		if service != "" {
			p, err := net.DefaultResolver.LookupPort(ctx, "tcp", service)
			if err != nil {
				return resolverStatus(ctx, err)
			}
			port = p
		}
		network := "ip"
		switch h.Family {
		case AFInet:
			network = "ip4"
		case AFInet6:
			network = "ip6"
		}
		host := node
		if host == "" {
			host = "localhost"
		}
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
		if err != nil {
			return resolverStatus(ctx, err)
		}
		var head *dispatch.AddrInfo
		tail := &head
		for _, a := range addrs {
			fam := AFInet6
			if a.Is4() || a.Is4In6() {
				a, fam = a.Unmap(), AFInet
			}
			*tail = &dispatch.AddrInfo{Family: fam, SocketType: h.SocketType, Protocol: h.Protocol,
				Addr: netip.AddrPortFrom(a, uint16(port))}
			tail = &(*tail).Next
		}
		if head == nil {
			return irp.NoMatch
		}
		head.CanonName = node
		*result = head
		return irp.Success
	})
}

// resolverStatus maps a resolver error: not found → STATUS_NO_MATCH, a cancelled
// context → STATUS_CANCELLED.
func resolverStatus(ctx context.Context, err error) irp.Status {
	if ctx.Err() != nil {
		return irp.Cancelled
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && (dnsErr.IsNotFound || !dnsErr.IsTemporary) {
		return irp.NoMatch
	}
	var addrErr *net.AddrError
	if errors.As(err, &addrErr) {
		return irp.NoMatch
	}
	return irp.FromError(err)
}

// wskFreeAddressInfo is WskFreeAddressInfo. The list is garbage-collected; the call exists
// for the contract and does nothing.
func wskFreeAddressInfo(c *dispatch.Client, ai *dispatch.AddrInfo) {}

// wskGetNameInfo is WskGetNameInfo: a reverse lookup (unless NINumericHost) on a
// goroutine; the service is always the numeric port (Go has no port-to-name lookup).
func wskGetNameInfo(c *dispatch.Client, addr netip.AddrPort, node, service *string,
	flags dispatch.NameInfoFlags, i *irp.IRP) irp.Status {
	r, st, ok := beginClientCall(c, i)
	if !ok {
		return st
	}
	if (node == nil && service == nil) || !addr.IsValid() {
		r.leaveCall()
		return failIRP(i, irp.InvalidParameter)
	}
	return r.runResolver(i, func(ctx context.Context) irp.Status {
		if service != nil {
			*service = strconv.Itoa(int(addr.Port()))
		}
		if node == nil {
			return irp.Success
		}
		numeric := addr.Addr().Unmap().String()
		if flags&dispatch.NINumericHost != 0 {
			*node = numeric
			return irp.Success
		}
		names, err := net.DefaultResolver.LookupAddr(ctx, addr.Addr().Unmap().String())
		if err != nil || len(names) == 0 {
			if ctx.Err() != nil {
				return irp.Cancelled
			}
			if flags&dispatch.NINameReqd != 0 {
				return irp.NoMatch
			}
			*node = numeric
			return irp.Success
		}
		name := names[0]
		if len(name) > 1 && name[len(name)-1] == '.' {
			name = name[:len(name)-1]
		}
		*node = name
		return irp.Success
	})
}
