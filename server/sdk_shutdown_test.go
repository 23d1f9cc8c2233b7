package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/shared/token"
)

// TestShutdownWithThousandsOfSDKSockets: SIGTERM reaches the real binary
// with 2,000 twilsock connections open (250 identities, 8 each, the
// per-identity limit): every client reads its 1001 close, and the process
// exits 0 within the promised 10 s.
func TestShutdownWithThousandsOfSDKSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const identities, perIdentity, dialers = 250, 8, 32
	cfg, err := config.Load(func(string) string { return "" }) // the binary's demo account
	if err != nil {
		t.Fatal(err)
	}
	m, err := mint.New(cfg.Twilio, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := startBinary(t)
	grant := token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS" + fmt.Sprintf("%032d", 0)}}

	conns := make(chan *websocket.Conn, identities*perIdentity)
	jobs := make(chan string)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range dialers {
		wg.Go(func() {
			d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
			for tok := range jobs {
				ws, _, err := d.Dial("ws://"+p.addr+"/v3/wsconnect", nil)
				if err != nil {
					failed.Store(err.Error())
					continue
				}
				b, _ := twilsock.Encode(twilsock.Header{Method: twilsock.MethodInit, ID: "TMinit", Token: tok}, nil)
				ws.WriteMessage(websocket.BinaryMessage, b)
				ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, data, err := ws.ReadMessage(); err != nil {
					failed.Store(fmt.Sprintf("init: %v", err))
				} else if f, err := twilsock.Decode(data); err != nil || f.Header.Status == nil || f.Header.Status.Code != 200 {
					failed.Store(fmt.Sprintf("init answered %q", data))
				}
				conns <- ws
			}
		})
	}
	for i := range identities {
		tok, err := m.Mint(fmt.Sprintf("user%03d", i), grant, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for range perIdentity {
			jobs <- tok.Token
		}
	}
	close(jobs)
	wg.Wait()
	close(conns)
	if f := failed.Load(); f != nil {
		t.Fatal(f)
	}

	var open []*websocket.Conn
	for ws := range conns {
		open = append(open, ws)
		defer ws.Close()
	}
	// The operator's listing holds each of them, once.
	resp, err := http.Get("http://" + p.addr + "/admin/sessions")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var list struct {
		SDK []struct{ ID, State string } `json:"sdk_connections"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("GET /admin/sessions: %v", err)
	}
	ids := make(map[string]bool)
	for _, c := range list.SDK {
		if c.State == "open" {
			ids[c.ID] = true
		}
	}
	if len(ids) != len(open) || len(list.SDK) != len(open) {
		t.Errorf("GET /admin/sessions lists %d SDK connections (%d distinct open), want the %d open", len(list.SDK), len(ids), len(open))
	}
	t.Logf("GET /admin/sessions with %d SDK connections: %d bytes", len(open), len(body))

	closes := make(chan error, len(open))
	for _, ws := range open {
		go func() {
			ws.SetReadDeadline(time.Now().Add(15 * time.Second))
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					closes <- err
					return
				}
			}
		}()
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for range open {
		err := <-closes
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			if bad++; bad <= 3 {
				t.Errorf("a twilsock client read %v, want close 1001", err)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d clients did not get 1001", bad, len(open))
	}
	select {
	case <-p.done:
	case <-time.After(10*time.Second - time.Since(sent)):
		t.Fatalf("still running 10 s after SIGTERM with %d SDK sockets", len(open))
	}
	if p.err != nil {
		t.Fatalf("exit: %v, want 0", p.err)
	}
	t.Logf("%d clients closed, exit after %v", len(open), time.Since(sent))
}
