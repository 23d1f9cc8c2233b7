package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/twilsock"
)

// TestServeTwilsock: the real server answers Twilio's twilsock path for a
// socket opened by another origin (an SDK in the user's app), warns before
// the token expires and closes with 410 at exp, and logs no token.
func TestServeTwilsock(t *testing.T) {
	srv := startServer(t, realEnv(), nil)
	base, logs := srv.url, srv.logs
	mint := func(ttl string) string {
		r := runCLI(t, realEnv(), "", "mint", "--identity", "alice", "--ttl", ttl, "--sync-service-sid", "IS"+strings.Repeat("d", 32))
		if r.err != nil {
			t.Fatal(r.err)
		}
		return strings.TrimSpace(r.stdout)
	}
	tok := mint("2")
	url := "ws" + strings.TrimPrefix(base, "http") + "/v3/wsconnect"
	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"http://app.example"}})
	if err != nil {
		t.Fatalf("dial %s from another origin: %v", url, err)
	}
	defer ws.Close()
	next := func() twilsock.Frame {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for a frame: %v", err)
		}
		f, err := twilsock.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	b, _ := twilsock.Encode(twilsock.Header{Method: twilsock.MethodInit, ID: "TM1", Token: tok}, nil)
	if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, want := range []string{twilsock.MethodReply, twilsock.MethodClientUpdate, twilsock.MethodClose} {
		f := next()
		methods = append(methods, f.Header.Method)
		if f.Header.Method != want {
			t.Fatalf("frames %v, want reply, client_update, close", methods)
		}
		if want == twilsock.MethodClose && f.Header.Status.Code != twilsock.StatusTokenExpired {
			t.Fatalf("close status %+v, want 410", f.Header.Status)
		}
	}
	if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), strings.Split(tok, ".")[2]) {
		t.Error("the log holds the token")
	}
}

// TestShutdownClosesTwilsock: on SIGTERM the real binary closes SDK
// sockets with 1001 going away, as it does /ws's, so the SDK reconnects
// instead of waiting out a dead connection.
func TestShutdownClosesTwilsock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startBinary(t)
	r := runCLI(t, nil, "", "mint", "--identity", "alice", "--ttl", "600", "--sync-service-sid", "IS"+strings.Repeat("d", 32))
	if r.err != nil {
		t.Fatal(r.err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	b, _ := twilsock.Encode(twilsock.Header{Method: twilsock.MethodInit, ID: "TM1", Token: strings.TrimSpace(r.stdout)}, nil)
	if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, data, err := ws.ReadMessage(); err != nil || !strings.Contains(string(data), `"code":200`) {
		t.Fatalf("init: %v %q", err, data)
	}
	// A request in flight (or a connection not yet read) keeps the process
	// up while it shuts down, as in TestGracefulShutdown: nothing makes
	// the exit wait for hijacked sockets' close frames.
	slow, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /token/verify HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", p.addr)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("the twilsock socket ended with %v, want close 1001", err)
		}
		break
	}
}
