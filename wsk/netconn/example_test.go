package netconn_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/gowsk/gowsk/wsk/netconn"
)

// A net/http server on gowsk: the listener is the only change.
func ExampleListen() {
	ln, err := netconn.Listen("tcp", "127.0.0.1:0") // was net.Listen
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from gowsk")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(string(b))
	// Output: hello from gowsk
}

// A client whose transport dials with gowsk.
func ExampleDialer() {
	ln, _ := netconn.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	var d netconn.Dialer
	tr := &http.Transport{DialContext: d.DialContext}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(string(b))
	// Output: HTTP/1.1
}
