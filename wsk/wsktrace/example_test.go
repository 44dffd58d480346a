package wsktrace_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/wsktrace"
)

// A socket's life as slog Debug records: a basic socket made and closed at once. Its
// close goes through the steps of the close protocol, and the close IRP completes last.
// (Run a runtime/trace around the same code to see it in go tool trace.)
func ExampleNew() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // no times: the output is the same at every run
			}
			return a
		},
	}))
	reg, _ := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}},
		wsk.WithObserver(wsktrace.New(log)))
	npi, _ := reg.CaptureProviderNPI(dispatch.InfiniteWait)
	ctx := context.Background()

	res := wsk.Call(ctx, 1, func(i *irp.IRP) irp.Status {
		return npi.Dispatch.Socket(npi.Client, wsk.AFInet, wsk.SockStream, wsk.IPProtoTCP, dispatch.BasicSocket, nil, nil, i)
	})
	s := res.Object.(*dispatch.Socket)
	wsk.Call(ctx, s.StackSize(), func(i *irp.IRP) irp.Status { return s.Basic().CloseSocket(s, i) })

	reg.ReleaseProviderNPI()
	reg.Deregister()
	// Output:
	// level=DEBUG msg=socket socket=1 category=basic
	// level=DEBUG msg="irp submitted" socket=1 irp=1 call=WskCloseSocket
	// level=DEBUG msg="irp pending" socket=1 irp=1 call=WskCloseSocket
	// level=DEBUG msg="close step" socket=1 step="1-3: calls drained, new calls refused"
	// level=DEBUG msg="close step" socket=1 step="4: wait for running callbacks"
	// level=DEBUG msg="close step" socket=1 step="5: cancel every pending IRP"
	// level=DEBUG msg="close step" socket=1 step="6: no reset needed"
	// level=DEBUG msg="close step" socket=1 step="7: close the descriptor"
	// level=DEBUG msg="close step" socket=1 step="8: complete the close IRP"
	// level=DEBUG msg="irp completed" socket=1 irp=1 call=WskCloseSocket status=STATUS_SUCCESS information=0 pending_returned=true cancel=false
	// level=DEBUG msg="socket closed" socket=1
}
