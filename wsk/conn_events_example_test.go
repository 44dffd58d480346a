//go:build unix || windows

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

// Receive events instead of receive IRPs: the provider shows the peer's bytes to
// ReceiveEvent (serially), and tells DisconnectEvent about the peer's FIN.
func Example_receiveEvent() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("pushed"))
		c.(*net.TCPConn).CloseWrite()
		b := make([]byte, 1)
		c.Read(b) // until the client closes
		c.Close()
	}()

	data := make(chan string, 8)
	fin := make(chan dispatch.Flags, 1)
	events := &dispatch.ClientConnectionDispatch{
		ReceiveEvent: func(_ any, _ dispatch.Flags, list *dispatch.DataIndication, _ int, _ *int) irp.Status {
			for e := list; e != nil; e = e.Next {
				for p := range e.Buffer.Segments {
					data <- string(p) // copy: the list goes back to the provider on return
				}
			}
			return irp.Success
		},
		DisconnectEvent: func(_ any, f dispatch.Flags) irp.Status { fin <- f; return irp.Success },
	}

	reg, _ := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}})
	npi, _ := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	ctx := context.Background()
	res := wsk.Call(ctx, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.SocketConnect(npi.Client, wsk.SockStream, wsk.IPProtoTCP,
			netip.AddrPort{}, ln.Addr().(*net.TCPAddr).AddrPort(), 0, nil, events, i)
	})
	s := res.Object.(*dispatch.Socket)

	in := dispatch.EventCallbackControl{NpiID: dispatch.NPIWskInterfaceID,
		EventMask: dispatch.EventReceive | dispatch.EventDisconnect}.Marshal()
	st := s.Basic().ControlSocket(s, dispatch.SetOption, dispatch.SOWskEventCallback, dispatch.SOLSocket, in, nil, nil, nil)
	fmt.Println("enable:", st)

	got := ""
	for len(got) < len("pushed") {
		got += <-data
	}
	fmt.Printf("received: %q\n", got)
	fmt.Println("abortive:", (<-fin)&dispatch.FlagAbortive != 0)

	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
	fmt.Println("close:", res.Status)
	reg.ReleaseProviderNPI()
	reg.Deregister()
	// Output:
	// enable: STATUS_SUCCESS
	// received: "pushed"
	// abortive: false
	// close: STATUS_SUCCESS
}
