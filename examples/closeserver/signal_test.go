package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runMainEnv makes the test binary run main() instead of the tests (TestMain), so the
// signal path is tested on the real command without building it separately.
const runMainEnv = "CLOSESERVER_RUN_MAIN"

// SIGINT and SIGTERM end -listen cleanly: every socket closed, Deregister returned, exit 0.
func TestSignalShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the command as a child process")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-listen", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			// A child that hangs is killed, so the test fails instead of hanging.
			killer := time.AfterFunc(waitBound, func() { _ = cmd.Process.Kill() })
			defer killer.Stop()
			exited := make(chan error, 1)
			lines := make(chan string, 64)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				exited <- cmd.Wait() // after the last read of the pipe, as Wait requires
			}()
			next := func() string {
				select {
				case l, ok := <-lines:
					require.True(t, ok, "the command's output ended early")
					return l
				case <-time.After(waitBound):
					t.Fatal("no output from the command")
				}
				return "" // not reached
			}
			first := next()
			require.True(t, strings.HasPrefix(first, "listening on 127.0.0.1:"), first)

			p := &peer{t: t}
			c, err := dialPeer(strings.TrimPrefix(first, "listening on "))
			require.NoError(t, err)
			p.c, p.r = c, bufio.NewReader(c)
			defer c.Close()
			require.Equal(t, "still here", p.ask("ECHO still here"))

			require.NoError(t, cmd.Process.Signal(sig))
			how, _ := p.end()
			require.True(t, isReset(how), "the open connection is closed (reset) at shutdown: %s", how)
			var rest []string
			for l := range lines {
				rest = append(rest, l)
			}
			require.NoError(t, <-exited, "exit status 0")
			require.NotEmpty(t, rest)
			require.Equal(t, "deregistered: sockets open 0, IRPs pending 0", rest[len(rest)-1])
		})
	}
}
