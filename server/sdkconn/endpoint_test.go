package sdkconn_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/shared/token"
)

var creds = mint.Credentials{
	AccountSID:   "AC00000000000000000000000000000000",
	APIKeySID:    "SK00000000000000000000000000000000",
	APIKeySecret: "endpoint-test-secret",
}

// mustMinter returns a Minter for creds (or c) on clock now (nil: time.Now).
func mustMinter(tb testing.TB, c mint.Credentials, now func() time.Time) *mint.Minter {
	tb.Helper()
	m, err := mint.New(c, now)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func syncToken(tb testing.TB, m *mint.Minter, identity string, ttl time.Duration) string {
	tb.Helper()
	t, err := m.Mint(identity, token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS00000000000000000000000000000000"}}, ttl)
	if err != nil {
		tb.Fatal(err)
	}
	return t.Token
}

// mustServer serves the endpoint on loopback with the warning lead given.
func mustServer(tb testing.TB, o sdkconn.Options) (*sdkconn.Endpoint, string) {
	tb.Helper()
	if o.Minter == nil {
		o.Minter = mustMinter(tb, creds, nil)
	}
	if o.Jitter == nil {
		o.Jitter = func(time.Duration) time.Duration { return 0 }
	}
	e := sdkconn.New(o)
	srv := httptest.NewServer(e)
	tb.Cleanup(srv.Close)
	return e, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// client speaks twilsock over a gorilla connection.
type client struct {
	tb testing.TB
	ws *websocket.Conn
}

func dial(tb testing.TB, url string) *client {
	tb.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	tb.Cleanup(func() { ws.Close() })
	return &client{tb: tb, ws: ws}
}

func (c *client) sendRaw(b []byte) {
	c.tb.Helper()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.tb.Fatalf("write: %v", err)
	}
}

func (c *client) send(h twilsock.Header, body []byte) {
	c.tb.Helper()
	b, err := twilsock.Encode(h, body)
	if err != nil {
		c.tb.Fatal(err)
	}
	c.sendRaw(b)
}

// next reads the next frame, failing after within.
func (c *client) next(within time.Duration) twilsock.Frame {
	c.tb.Helper()
	c.ws.SetReadDeadline(time.Now().Add(within))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		c.tb.Fatalf("waiting for a frame: %v", err)
	}
	f, err := twilsock.Decode(data)
	if err != nil {
		c.tb.Fatalf("server sent a bad frame: %v", err)
	}
	return f
}

// closed waits for the server to end the WebSocket and returns the error.
func (c *client) closed(within time.Duration) error {
	c.tb.Helper()
	c.ws.SetReadDeadline(time.Now().Add(within))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				c.tb.Fatalf("the server did not close the connection within %v", within)
			}
			return err
		}
	}
}

func (c *client) init(tok string) twilsock.Frame {
	c.tb.Helper()
	c.send(twilsock.Header{Method: twilsock.MethodInit, ID: "TMinit", Token: tok, Capabilities: []string{"client_update"}}, nil)
	r := c.next(5 * time.Second)
	if r.Header.Method != twilsock.MethodReply || r.Header.ID != "TMinit" {
		c.tb.Fatalf("init answered with %+v, want its reply", r.Header)
	}
	return r
}

func wantStatus(tb testing.TB, f twilsock.Frame, method string, code, errorCode int) {
	tb.Helper()
	if f.Header.Method != method || f.Header.Status == nil || f.Header.Status.Code != code || f.Header.Status.ErrorCode != errorCode {
		tb.Fatalf("got %s %+v, want %s with status %d and error code %d", f.Header.Method, f.Header.Status, method, code, errorCode)
	}
}

// TestLifecycleEndToEnd: connect, tokenAboutToExpire at the scaled lead,
// update accepted (the next warning comes from the new exp), then close 410
// at exp when no update came.
func TestLifecycleEndToEnd(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, url := mustServer(t, sdkconn.Options{Minter: m, Lead: time.Minute})
	c := dial(t, url)
	wantStatus(t, c.init(syncToken(t, m, "alice", 2*time.Second)), twilsock.MethodReply, 200, 0)

	f := c.next(5 * time.Second)
	if f.Header.Method != twilsock.MethodClientUpdate || f.Header.ClientUpdateType != twilsock.ClientUpdateTokenAboutToExpire {
		t.Fatalf("want client_update token_about_to_expire, got %+v", f.Header)
	}
	c.send(twilsock.Reply(f.Header.ID, 200, "OK"), nil) // the SDK acknowledges

	c.send(twilsock.Header{Method: twilsock.MethodUpdate, ID: "TMup", Token: syncToken(t, m, "alice", 3*time.Second)}, nil)
	r := c.next(5 * time.Second)
	if r.Header.ID != "TMup" {
		t.Fatalf("update answered with %+v", r.Header)
	}
	wantStatus(t, r, twilsock.MethodReply, 200, 0)
	updated := time.Now()

	if f := c.next(5 * time.Second); f.Header.Method != twilsock.MethodClientUpdate {
		t.Fatalf("want a second warning for the new token, got %+v", f.Header)
	}
	f = c.next(5 * time.Second)
	wantStatus(t, f, twilsock.MethodClose, twilsock.StatusTokenExpired, 0)
	if since := time.Since(updated); since < 2*time.Second {
		t.Errorf("closed %v after the update: the new token (3 s) had not expired", since)
	}
	if err := c.closed(5 * time.Second); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after the 410, the WebSocket ended with %v, want a normal close", err)
	}
}

// TestTokensRefused: init and update answer bad tokens with Twilio's status
// and error code; the SDK reads 20104 as tokenExpired.
func TestTokensRefused(t *testing.T) {
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	other := creds
	other.APIKeySecret = "another-secret"
	m := mustMinter(t, creds, nil)
	_, url := mustServer(t, sdkconn.Options{Minter: m})
	videoOnly, err := m.Mint("alice", token.Grants{Video: &token.VideoGrant{}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		token     string
		status    int
		errorCode int
	}{
		{"bad signature", syncToken(t, mustMinter(t, other, nil), "alice", time.Minute), 401, twilsock.ErrorTokenSignatureInvalid},
		{"expired", syncToken(t, mustMinter(t, creds, past), "alice", time.Minute), 401, twilsock.ErrorTokenExpired},
		{"not a token", "not-a-jwt", 401, twilsock.ErrorTokenInvalid},
		{"no sync or chat grant", videoOnly.Token, 403, twilsock.ErrorTokenGrantsInvalid},
		{"another identity", syncToken(t, m, "mallory", time.Minute), 401, twilsock.ErrorTokenInvalid},
	}
	for _, tt := range tests {
		t.Run("update "+tt.name, func(t *testing.T) {
			c := dial(t, url)
			wantStatus(t, c.init(syncToken(t, m, "alice", time.Minute)), twilsock.MethodReply, 200, 0)
			c.send(twilsock.Header{Method: twilsock.MethodUpdate, ID: "TMup", Token: tt.token}, nil)
			r := c.next(5 * time.Second)
			wantStatus(t, r, twilsock.MethodReply, tt.status, tt.errorCode)
			if want := strings.ToUpper(http.StatusText(tt.status)); r.Header.Status.Status != want {
				t.Errorf("status text %q, want %q as Twilio sends it (twilio-sync tests for it)", r.Header.Status.Status, want)
			}
			if strings.Contains(r.Header.Status.Description, tt.token) {
				t.Errorf("the refusal repeats the token: %q", r.Header.Status.Description)
			}
		})
		if tt.name == "another identity" {
			continue // a fine token to connect with
		}
		t.Run("init "+tt.name, func(t *testing.T) {
			c := dial(t, url)
			wantStatus(t, c.init(tt.token), twilsock.MethodReply, tt.status, tt.errorCode)
			c.closed(5 * time.Second)
		})
	}
}

// TestUpstreamNotEmulated: a request for a Twilio service gets an answer at
// once, saying it is not emulated, and the connection stays up.
func TestUpstreamNotEmulated(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, url := mustServer(t, sdkconn.Options{Minter: m})
	c := dial(t, url)
	c.init(syncToken(t, m, "alice", time.Minute))
	c.send(twilsock.Header{Method: twilsock.MethodMessage, ID: "TMmsg", ActiveGrant: "data_sync", PayloadType: "application/json",
		HTTPRequest: &twilsock.HTTPRequest{Host: "cds.us1.twilio.com", Path: "/v3/Documents/d", Method: "GET"}}, nil)
	r := c.next(5 * time.Second)
	wantStatus(t, r, twilsock.MethodReply, 200, 0)
	if r.Header.HTTPStatus == nil || r.Header.HTTPStatus.Code != http.StatusNotImplemented || !strings.Contains(string(r.Body), "not emulated by tokenlab") {
		t.Fatalf("upstream answer %+v %s, want 501 saying not emulated by tokenlab", r.Header.HTTPStatus, r.Body)
	}
	c.send(twilsock.Header{Method: twilsock.MethodUpdate, ID: "TMup", Token: syncToken(t, m, "alice", time.Minute)}, nil)
	wantStatus(t, c.next(5*time.Second), twilsock.MethodReply, 200, 0)
}

// TestHostileFrames: each broken frame closes the connection with
// twilsock's 406 and a description, or (too large to read) a 1009 close.
func TestHostileFrames(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, url := mustServer(t, sdkconn.Options{Minter: m})
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"bad magic", []byte("TWILSOCK V9.9 2\r\n{}\r\n"), "does not start with"},
		{"length that lies", []byte("TWILSOCK V3.0 900\r\n{\"method\":\"init\"}\r\n"), "header length is wrong"},
		{"header not JSON", []byte("TWILSOCK V3.0 5\r\nhello\r\n"), "not a JSON object"},
		{"unknown method", []byte("TWILSOCK V3.0 37\r\n{\"method\":\"explode\",\"payload_size\":0}\r\n"), "method unknown"},
		{"update before init", []byte("TWILSOCK V3.0 36\r\n{\"method\":\"update\",\"payload_size\":0}\r\n"), "before init"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, url)
			c.sendRaw(tt.data)
			f := c.next(5 * time.Second)
			wantStatus(t, f, twilsock.MethodClose, twilsock.StatusNotAcceptable, 0)
			if !strings.Contains(f.Header.Status.Description, tt.want) {
				t.Errorf("close says %q, want it to mention %q", f.Header.Status.Description, tt.want)
			}
			c.closed(5 * time.Second)
		})
	}
	t.Run("1 MB header", func(t *testing.T) {
		c := dial(t, url)
		// The server may cut the connection before the whole frame is
		// written: the write's error is not the test's concern.
		c.ws.WriteMessage(websocket.BinaryMessage, []byte("TWILSOCK V3.0 1048576\r\n{\"method\":\"init\",\"token\":\""+strings.Repeat("a", 1<<20)+"\"}\r\n"))
		err := c.closed(5 * time.Second)
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != websocket.CloseMessageTooBig {
			t.Errorf("a 1 MB frame ended the connection with %v, want close 1009 (or the connection cut)", err)
		}
	})
}

// TestFloodClosed: a client sending frames faster than the rate is closed
// with 429.
func TestFloodClosed(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, url := mustServer(t, sdkconn.Options{Minter: m})
	c := dial(t, url)
	c.init(syncToken(t, m, "alice", time.Minute))
	ping, _ := twilsock.Encode(twilsock.Header{Method: twilsock.MethodPing, ID: "p"}, nil)
	go func() {
		for range sdkconn.MessageBurst * 3 {
			if c.ws.WriteMessage(websocket.BinaryMessage, ping) != nil {
				return
			}
		}
	}()
	for {
		f := c.next(5 * time.Second)
		if f.Header.Method == twilsock.MethodClose {
			wantStatus(t, f, twilsock.MethodClose, twilsock.StatusTooManyRequest, 0)
			return
		}
	}
}

// TestConnectionsPerIdentity: connections for one identity, opened at once,
// are bounded; the others are closed with 429, and a slot frees on close.
func TestConnectionsPerIdentity(t *testing.T) {
	m := mustMinter(t, creds, nil)
	const limit, tries = 3, 12
	e, url := mustServer(t, sdkconn.Options{Minter: m, MaxConnsPerIdentity: limit})
	tok := syncToken(t, m, "alice", time.Minute)
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		ok    []*client
		bad   int
	)
	for range tries {
		c := dial(t, url)
		wg.Go(func() {
			<-start
			c.send(twilsock.Header{Method: twilsock.MethodInit, ID: "TMinit", Token: tok}, nil)
			f := c.next(5 * time.Second)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case f.Header.Method == twilsock.MethodReply && f.Header.Status.Code == 200:
				ok = append(ok, c)
			case f.Header.Method == twilsock.MethodClose && f.Header.Status.Code == twilsock.StatusTooManyRequest:
				bad++
			default:
				t.Errorf("unexpected answer %+v", f.Header)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(ok) != limit || bad != tries-limit {
		t.Fatalf("%d accepted and %d refused, want %d and %d", len(ok), bad, limit, tries-limit)
	}
	ok[0].ws.Close()
	deadline := time.Now().Add(5 * time.Second)
	for e.Connections() > limit-1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polls a condition with a deadline
	}
	c := dial(t, url)
	wantStatus(t, c.init(tok), twilsock.MethodReply, 200, 0)
}

// TestPlainHTTP: a request that is not a WebSocket upgrade is told what the
// path is for.
func TestPlainHTTP(t *testing.T) {
	_, url := mustServer(t, sdkconn.Options{})
	res, err := http.Get("http" + strings.TrimPrefix(url, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":"not_websocket"`) {
		t.Errorf("status %d %s, want 400 not_websocket", res.StatusCode, body)
	}
}

// TestConversationsStartUp: the requests Conversations makes at start-up
// get thin answers for the connection's own identity; a request next to
// them (another map, another user) is still not emulated.
func TestConversationsStartUp(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, url := mustServer(t, sdkconn.Options{Minter: m})
	c := dial(t, url)
	chat, err := m.Mint("alice", token.Grants{Chat: &token.ChatGrant{ServiceSID: "IS00000000000000000000000000000000"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c.init(chat.Token)
	tests := []struct {
		host, method, path string
		code               int
		want               string
	}{
		{"aim.us1.twilio.com", "GET", "/Client/v2/Configuration", 200, `"identity":"alice"`},
		{"cds.us1.twilio.com", "GET", "/v3/Maps/tokenlab.my_conversations", 200, `"items":[]`},
		{"cds.us1.twilio.com", "GET", "/v3/Maps/tokenlab.my_conversations/Items", 200, `"items":[]`},
		{"cds.us1.twilio.com", "POST", "/v4/Subscriptions", 200, `"estimated_delivery_in_ms"`},
		{"aim.us1.twilio.com", "GET", "/Client/v2/Users/alice/Conversations", 200, `"conversations":[]`},
		{"aim.us1.twilio.com", "GET", "/Client/v2/Users/bob/Conversations", 501, "not emulated"},
		{"cds.us1.twilio.com", "GET", "/v3/Maps/someone.elses", 501, "not emulated"},
		{"aim.us1.twilio.com", "POST", "/Client/v2/Configuration", 501, "not emulated"},
	}
	for i, tt := range tests {
		id := fmt.Sprintf("TM%d", i)
		c.send(twilsock.Header{Method: twilsock.MethodMessage, ID: id, ActiveGrant: "ip_messaging",
			HTTPRequest: &twilsock.HTTPRequest{Host: tt.host, Method: tt.method, Path: tt.path}}, nil)
		r := c.next(5 * time.Second)
		if r.Header.ID != id || r.Header.HTTPStatus == nil || r.Header.HTTPStatus.Code != tt.code || !strings.Contains(string(r.Body), tt.want) {
			t.Errorf("%s %s%s: got %v %s, want %d with %s", tt.method, tt.host, tt.path, r.Header.HTTPStatus, r.Body, tt.code, tt.want)
		}
	}
}

// TestTotalConnections: upgrades past the server's bound, attempted at
// once, are refused with 503 before any WebSocket is made.
func TestTotalConnections(t *testing.T) {
	const limit, tries = 4, 12
	_, url := mustServer(t, sdkconn.Options{MaxConns: limit})
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		mu      sync.Mutex
		ok, got int
		conns   []*websocket.Conn
	)
	for range tries {
		wg.Go(func() {
			<-start
			ws, res, err := websocket.DefaultDialer.Dial(url, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
				conns = append(conns, ws)
			case res != nil && res.StatusCode == http.StatusServiceUnavailable:
				got++
			default:
				t.Errorf("dial: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, ws := range conns {
		ws.Close()
	}
	if ok != limit || got != tries-limit {
		t.Errorf("%d connections made and %d refused with 503, want %d and %d", ok, got, limit, tries-limit)
	}
}
