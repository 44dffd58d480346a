//go:build unix

package wsk_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// Static event callbacks: WSK_SET_STATIC_EVENT_CALLBACKS, issued once before any socket
// exists, enables the receive-from event on every datagram socket from its creation on.
// No SO_WSK_EVENT_CALLBACK is needed, and none can turn it off.
func Example_staticEventCallbacks() {
	reg, _ := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}})
	npi, _ := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	static := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID, EventMask: dispatch.EventReceiveFrom}.Marshal()
	fmt.Println("static:", npi.Dispatch.ControlClient(npi.Client, dispatch.SetStaticEventCallbacks, static, nil, nil, nil))

	got := make(chan string, 1)
	events := &dispatch.ClientDatagramDispatch{
		ReceiveFromEvent: func(_ any, _ dispatch.Flags, list *dispatch.DatagramIndication) irp.Status {
			b := make([]byte, list.Buffer.Length)
			list.Buffer.CopyTo(0, b) // copy: the list goes back to the provider on return
			got <- string(b)
			return irp.Success
		},
	}
	ctx := context.Background()
	res := wsk.Call(ctx, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, wsk.AFInet, wsk.SockDgram, wsk.IPProtoUDP, dispatch.DatagramSocket, nil, events, i)
	})
	s := res.Object.(*dispatch.Socket)
	loop := netip.MustParseAddrPort("127.0.0.1:0")
	wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Datagram().Bind(s, loop, 0, i) })
	var local netip.AddrPort
	wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Datagram().GetLocalAddress(s, &local, i) })

	c, _ := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(local))
	c.Write([]byte("hello"))
	c.Close()
	fmt.Println("event:", <-got)

	off := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID,
		EventMask: dispatch.EventReceiveFrom | dispatch.EventDisable}.Marshal()
	fmt.Println("disable:", s.Basic().ControlSocket(s, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, off, nil, nil, nil))

	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
	fmt.Println("close:", res.Status)
	reg.ReleaseProviderNPI()
	reg.Deregister()
	// Output:
	// static: STATUS_SUCCESS
	// event: hello
	// disable: STATUS_INVALID_PARAMETER
	// close: STATUS_SUCCESS
}
