//go:build unix || windows

package wsk_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
)

// A server: a listen socket accepts one connection through an Accept IRP, echoes one line
// to a net.Dial client, disconnects gracefully, waits for the client's disconnect and
// closes both sockets: a clean close, no reset.
func Example_server() {
	reg, _ := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}})
	npi, _ := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	ctx := context.Background()

	res := wsk.Call(ctx, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, wsk.AFInet, wsk.SockStream, wsk.IPProtoTCP, dispatch.ListenSocket, nil, nil, i)
	})
	ls := res.Object.(*dispatch.Socket)
	lt := ls.Listen()
	res = wsk.Call(ctx, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return lt.Bind(ls, netip.MustParseAddrPort("127.0.0.1:0"), 0, i) // a listen socket listens from its bind on
	})
	fmt.Println("bind:", res.Status)
	var addr netip.AddrPort
	wsk.Call(ctx, ls.StackSize(), func(i *irp.IRP) irp.Status { return lt.GetLocalAddress(ls, &addr, i) })

	client := make(chan string)
	go func() { // a plain Go client
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			client <- err.Error()
			return
		}
		defer c.Close()
		fmt.Fprintln(c, "hello, server")
		line, _ := bufio.NewReader(c).ReadString('\n')
		rest, _ := io.ReadAll(c) // until the server's FIN
		client <- fmt.Sprintf("client got %q, then EOF after %d more bytes", line, len(rest))
	}()

	var remote netip.AddrPort
	res = wsk.Call(ctx, ls.StackSize(), func(i *irp.IRP) irp.Status {
		return lt.Accept(ls, 0, nil, nil, nil, &remote, i)
	})
	fmt.Println("accept:", res.Status, remote.Addr())
	s := res.Object.(*dispatch.Socket)
	conn := s.Connection()

	var line []byte
	b := make([]byte, 64)
	for len(line) == 0 || line[len(line)-1] != '\n' {
		in := dispatch.MakeBuf(b)
		res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return conn.Receive(s, &in, 0, i) })
		if res.Status != irp.Success || res.Information == 0 {
			break
		}
		line = append(line, b[:res.Information]...)
	}
	fmt.Printf("server got %q\n", line)

	out := dispatch.MakeBuf(line)
	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return conn.Disconnect(s, &out, 0, i) })
	fmt.Println("echo and disconnect:", res.Status)
	fmt.Println(<-client)

	in := dispatch.MakeBuf(b)
	res = wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return conn.Receive(s, &in, 0, i) })
	fmt.Println("client disconnected:", res.Status, res.Information)

	fmt.Println("close connection:", wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) }).Status)
	fmt.Println("close listener:", wsk.Call(ctx, ls.StackSize(), func(i *irp.IRP) irp.Status { return ls.Basic().CloseSocket(ls, i) }).Status)
	reg.ReleaseProviderNPI()
	reg.Deregister()
	fmt.Println("resets sent:", reg.Stats().ResetsSent)
	// Output:
	// bind: STATUS_SUCCESS
	// accept: STATUS_SUCCESS 127.0.0.1
	// server got "hello, server\n"
	// echo and disconnect: STATUS_SUCCESS
	// client got "hello, server\n", then EOF after 0 more bytes
	// client disconnected: STATUS_SUCCESS 0
	// close connection: STATUS_SUCCESS
	// close listener: STATUS_SUCCESS
	// resets sent: 0
}
