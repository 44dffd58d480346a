//go:build unix || windows

package wsk_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// A client connects to a net.Listener, sends, receives the reply, disconnects
// gracefully, sees the server's disconnect, and closes: a clean close, no reset.
func Example() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() { // an echo server in plain Go
		c, err := ln.Accept()
		if err != nil {
			return
		}
		b, _ := io.ReadAll(c) // until the client's FIN
		c.Write(b)
		c.(*net.TCPConn).CloseWrite()
		c.Close()
	}()

	reg, _ := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}})
	npi, _ := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	ctx := context.Background()

	res := wsk.Call(ctx, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.SocketConnect(npi.Client, wsk.SockStream, wsk.IPProtoTCP,
			netip.AddrPort{}, ln.Addr().(*net.TCPAddr).AddrPort(), 0, nil, nil, i)
	})
	fmt.Println("connect:", res.Status)
	s := res.Object.(*dispatch.Socket)
	conn := s.Connection()

	out := dispatch.MakeBuf([]byte("hello, wsk"))
	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return conn.Send(s, &out, 0, i) })
	fmt.Println("send:", res.Status, res.Information)

	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return conn.Disconnect(s, nil, 0, i) })
	fmt.Println("disconnect:", res.Status)

	in := dispatch.MakeBuf(make([]byte, 64))
	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return conn.Receive(s, &in, dispatch.FlagWaitAll, i) })
	fmt.Printf("receive: %v %q\n", res.Status, in.First[:res.Information])

	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return conn.Receive(s, &in, 0, i) })
	fmt.Println("peer disconnected:", res.Status, res.Information)

	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })
	fmt.Println("close:", res.Status)

	reg.ReleaseProviderNPI()
	reg.Deregister()
	fmt.Println("resets sent:", reg.Stats().ResetsSent)
	// Output:
	// connect: STATUS_SUCCESS
	// send: STATUS_SUCCESS 10
	// disconnect: STATUS_SUCCESS
	// receive: STATUS_SUCCESS "hello, wsk"
	// peer disconnected: STATUS_SUCCESS 0
	// close: STATUS_SUCCESS
	// resets sent: 0
}
