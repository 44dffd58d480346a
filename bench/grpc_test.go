package main

// gRPC on a gowsk listener (wsk/netconn): a unary call, a server-streaming call and
// GracefulStop, with the health service that ships with grpc-go (no generated code of
// our own). gRPC lives in this module so that the library's go.mod never sees it.

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/gowsk/gowsk/dispatch"
	"github.com/gowsk/gowsk/irp"
	"github.com/gowsk/gowsk/wsk"
	"github.com/gowsk/gowsk/wsk/netconn"
)

func newNetconnProvider(t *testing.T) *netconn.Provider {
	t.Helper()
	reg, st := wsk.Register(&wsk.ClientNPI{Dispatch: &dispatch.ClientDispatch{Version: dispatch.MakeVersion(1, 0)}})
	require.Equal(t, irp.Success, st)
	p, err := netconn.New(reg, netconn.Options{})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, p.Shutdown(ctx))
		reg.Deregister()
	})
	return p
}

func TestGRPCOnGowskListener(t *testing.T) {
	p := newNetconnProvider(t)
	ln, err := p.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	for name, dial := range map[string]func(context.Context, string) (net.Conn, error){
		"stdlib-dial": func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
		"gowsk-dial": func(ctx context.Context, addr string) (net.Conn, error) {
			d := netconn.Dialer{Provider: p}
			return d.DialContext(ctx, "tcp", addr)
		},
	} {
		t.Run(name, func(t *testing.T) {
			cc, err := grpc.NewClient("passthrough:///"+ln.Addr().String(),
				grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithContextDialer(dial))
			require.NoError(t, err)
			defer cc.Close()
			cl := healthpb.NewHealthClient(cc)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			// Unary.
			resp, err := cl.Check(ctx, &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.Status)

			// Server streaming: the current status, then every change.
			svc := "svc-" + name
			hs.SetServingStatus(svc, healthpb.HealthCheckResponse_SERVING)
			stream, err := cl.Watch(ctx, &healthpb.HealthCheckRequest{Service: svc})
			require.NoError(t, err)
			msg, err := stream.Recv()
			require.NoError(t, err)
			require.Equal(t, healthpb.HealthCheckResponse_SERVING, msg.Status)
			hs.SetServingStatus(svc, healthpb.HealthCheckResponse_NOT_SERVING)
			msg, err = stream.Recv()
			require.NoError(t, err)
			require.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, msg.Status)
			cancel()
		})
	}

	// GracefulStop with a call in flight on an open stream: it waits for it to end.
	cc, err := grpc.NewClient("passthrough:///"+ln.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer cc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := healthpb.NewHealthClient(cc).Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = stream.Recv()
	require.NoError(t, err)
	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("GracefulStop returned with a stream still open")
	case <-time.After(100 * time.Millisecond):
	}
	hs.Shutdown() // ends the Watch streams (NOT_SERVING, then the handler returns)
	cancel()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("GracefulStop did not return")
	}
	require.NoError(t, <-served)
}
