package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/twilsock"
)

// TestServeTwilsock: the real server answers Twilio's twilsock path for a
// socket opened by another origin (an SDK in the user's app), warns before
// the token expires and closes with 410 at exp, and logs no token.
func TestServeTwilsock(t *testing.T) {
	base, logs := startServer(t, realEnv())
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
