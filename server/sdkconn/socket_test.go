package sdkconn

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/voicesignal"
)

// TestSocketHeartbeat: a socket with a heartbeat sends it as a text
// message every keepalive, which Voice's SDK needs (it ignores pings and
// reconnects after 15 s of silence); queued messages still go out.
func TestSocketHeartbeat(t *testing.T) {
	const keepalive = 20 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s := newSocket(ws, slog.New(slog.DiscardHandler), websocket.TextMessage, []byte(voicesignal.Heartbeat), keepalive)
		s.queueBytes([]byte(`{"type":"ready"}`))
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					close(s.readerDone)
					s.shut(websocket.CloseNormalClosure, "")
					return
				}
			}
		}()
		s.writePump()
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < 4 {
		kind, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if kind != websocket.TextMessage {
			t.Fatalf("message of WebSocket type %d, want text", kind)
		}
		got = append(got, string(data))
	}
	if got[0] != `{"type":"ready"}` || got[1] != "\n" || got[2] != "\n" || got[3] != "\n" {
		t.Errorf("the socket sent %q, want the queued message, then heartbeats", got)
	}
}
