package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
)

// live is the real handler behind a real loopback server.
type live struct {
	*stack
	srv *httptest.Server
}

func newLive(tb testing.TB, editCfg func(*config.Config), editHub func(*hub.Options)) *live {
	tb.Helper()
	s := newStack(tb, fixture{config: editCfg, hub: editHub})
	return &live{stack: s, srv: s.listen(tb)}
}

func (l *live) wsURL() string { return "ws" + strings.TrimPrefix(l.srv.URL, "http") + "/ws" }

// signIn signs alice in over HTTP.
func (l *live) signIn(tb testing.TB, ttl int) (api.TokenResponse, *http.Cookie) {
	tb.Helper()
	resp, err := http.Post(l.srv.URL+"/token", "application/json",
		strings.NewReader(`{"username":"alice","password":"pw","ttl":`+itoa(ttl)+`}`))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var tr api.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != 200 {
		tb.Fatalf("sign-in: %d %v", resp.StatusCode, err)
	}
	ck := sessionCookie(tb, resp.Cookies())
	if ck == nil {
		tb.Fatal("no session cookie")
	}
	return tr, ck
}

// refreshHTTP renews over POST /token/refresh.
func (l *live) refreshHTTP(tb testing.TB, ck *http.Cookie) (api.TokenResponse, error) {
	req, _ := http.NewRequest("POST", l.srv.URL+"/token/refresh", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return api.TokenResponse{}, err
	}
	defer resp.Body.Close()
	var tr api.TokenResponse
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return tr, errors.New(resp.Status + ": " + string(b))
	}
	return tr, json.NewDecoder(resp.Body).Decode(&tr)
}

// dial opens the socket as a browser on the page would: with the cookie
// and the page's Origin.
func (l *live) dial(ck *http.Cookie, origin string, d *websocket.Dialer) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if ck != nil {
		h.Set("Cookie", ck.Name+"="+ck.Value)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if d == nil {
		d = websocket.DefaultDialer
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.DialContext(ctx, l.wsURL(), h)
}

func (l *live) mustDial(tb testing.TB, ck *http.Cookie) *websocket.Conn {
	tb.Helper()
	c, resp, err := l.dial(ck, l.srv.URL, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		tb.Fatalf("dial: %v (status %d)", err, status)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// read returns the next message, failing after timeout.
func read(tb testing.TB, c *websocket.Conn, timeout time.Duration) protocol.Message {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(timeout))
	kind, data, err := c.ReadMessage()
	if err != nil {
		tb.Fatalf("reading: %v", err)
	}
	if kind != websocket.TextMessage {
		tb.Fatalf("a %d frame, want text", kind)
	}
	m, err := protocol.Decode(data)
	if err != nil {
		tb.Fatalf("the server sent %s: %v", data, err)
	}
	return m
}

func expect(tb testing.TB, c *websocket.Conn, typ string, timeout time.Duration) protocol.Message {
	tb.Helper()
	m := read(tb, c, timeout)
	if m.Type != typ {
		tb.Fatalf("got %+v, want a %q message", m, typ)
	}
	return m
}

// expectClose reads until the close frame and checks its code.
func expectClose(tb testing.TB, c *websocket.Conn, code int) string {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err == nil {
			continue // messages queued before the close
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			tb.Fatalf("connection ended with %v, want close code %d", err, code)
		}
		if ce.Code != code {
			tb.Fatalf("close code %d (%q), want %d; last data %s", ce.Code, ce.Text, code, data)
		}
		return ce.Text
	}
}

func send(tb testing.TB, c *websocket.Conn, m protocol.Message) {
	tb.Helper()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, protocol.Encode(m)); err != nil {
		tb.Fatal(err)
	}
}

// sentBefore is how long before t the server stamped m (server_time_ms):
// notices are checked by when the server sent them, not by when a loaded
// machine delivered them. The hub's tests time them exactly, on a fake
// clock.
func sentBefore(m protocol.Message, t time.Time) time.Duration {
	return t.Sub(time.UnixMilli(m.ServerTimeMS))
}

func TestWSWarningAtTheLead(t *testing.T) {
	tests := []struct {
		name string
		lead time.Duration // TOKENLAB_WARN_LEAD
		ttl  int
		want time.Duration // renew.Lead(ttl, lead)
	}{
		{"configured lead", time.Second, 4, time.Second},
		{"ttl shorter than the default lead", renew.DefaultLead, 3, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLive(t, func(c *config.Config) { c.WarnLead = tt.lead }, nil)
			resp, ck := l.signIn(t, tt.ttl)
			ws := l.mustDial(t, ck)
			hello := expect(t, ws, protocol.TypeHello, 5*time.Second)
			maxLead := tt.want + renew.MaxJitter(tt.want)
			lead := time.Duration(hello.LeadMS) * time.Millisecond
			if hello.JTI != resp.JTI || hello.Exp != resp.ExpiresAt || lead < tt.want || lead > maxLead || hello.Identity != "alice" {
				t.Errorf("hello %+v, want jti %s exp %d lead in [%v, %v]", hello, resp.JTI, resp.ExpiresAt, tt.want, maxLead)
			}
			if d := time.Since(time.UnixMilli(hello.ServerTimeMS)); d < -time.Second || d > time.Second {
				t.Errorf("hello server_time_ms is %v off", d)
			}
			exp := time.Unix(resp.ExpiresAt, 0)

			// Sent at the lead (never earlier), and before exp.
			w := expect(t, ws, protocol.TypeExpiring, time.Duration(tt.ttl)*time.Second)
			if before := sentBefore(w, exp); before > maxLead+time.Millisecond || before <= 0 {
				t.Errorf("expiring sent %v before exp, want at most %v and before exp", before, maxLead)
			}
			if w.JTI != resp.JTI || w.LeadMS != hello.LeadMS {
				t.Errorf("expiring %+v", w)
			}

			x := expect(t, ws, protocol.TypeExpired, 5*time.Second)
			if before := sentBefore(x, exp); before > 0 {
				t.Errorf("expired sent %v before exp", before)
			}
			if x.JTI != resp.JTI || x.Exp != resp.ExpiresAt {
				t.Errorf("expired %+v", x)
			}
		})
	}
}

func TestWSRenewalReschedules(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	first, ck := l.signIn(t, 3)
	ws := l.mustDial(t, ck)
	expect(t, ws, protocol.TypeHello, 5*time.Second)
	expect(t, ws, protocol.TypeExpiring, 5*time.Second)

	send(t, ws, protocol.Message{Type: protocol.TypeRenew, ID: "r1"})
	tok := expect(t, ws, protocol.TypeToken, 5*time.Second)
	if tok.ID != "r1" || tok.JTI == first.JTI || tok.Token == "" || tok.Reason != "renewed" || tok.Exp <= first.ExpiresAt {
		t.Fatalf("answer to renew: %+v", tok)
	}
	// The old token's expiry passes silently; the next notice is the new
	// token's warning, timed from its own exp.
	w := expect(t, ws, protocol.TypeExpiring, 5*time.Second)
	before := sentBefore(w, time.Unix(tok.Exp, 0))
	if w.JTI != tok.JTI || before > time.Second+renew.MaxJitter(time.Second)+time.Millisecond || before <= 0 {
		t.Errorf("after renewal: %+v, sent %v before the new exp", w, before)
	}
}

func TestWSEveryTabGetsAnHTTPRenewal(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	first, ck := l.signIn(t, 3)
	a, b := l.mustDial(t, ck), l.mustDial(t, ck)
	strangers, stranger := l.signIn(t, 3)
	other := l.mustDial(t, stranger)
	for _, c := range []*websocket.Conn{a, b, other} {
		expect(t, c, protocol.TypeHello, 5*time.Second)
	}
	for _, c := range []*websocket.Conn{a, b} {
		expect(t, c, protocol.TypeExpiring, 5*time.Second)
	}
	renewed, err := l.refreshHTTP(t, ck)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.JTI == first.JTI {
		t.Fatal("refresh returned the sign-in token")
	}
	for _, c := range []*websocket.Conn{a, b} {
		m := expect(t, c, protocol.TypeToken, 5*time.Second)
		if m.Token != renewed.Token || m.JTI != renewed.JTI || m.ID != "" {
			t.Errorf("tab got %+v, want the HTTP renewal", m)
		}
	}
	// The other session's tab hears only of its own token. (A jti names
	// the key and the second of issue, so two sessions' tokens can share
	// one: the expiry tells them apart.)
	if m := read(t, other, 5*time.Second); m.Type != protocol.TypeExpiring || m.JTI != strangers.JTI || m.Exp != strangers.ExpiresAt {
		t.Errorf("another session's tab got %+v, want the warning for its own token %s (exp %d)", m, strangers.JTI, strangers.ExpiresAt)
	}
}

func TestWSConcurrentRenewalsMintOneToken(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	_, ck := l.signIn(t, 3)
	const tabs, posts = 6, 14
	conns := make([]*websocket.Conn, tabs)
	for i := range conns {
		conns[i] = l.mustDial(t, ck)
		expect(t, conns[i], protocol.TypeHello, 5*time.Second)
	}
	for _, c := range conns {
		expect(t, c, protocol.TypeExpiring, 5*time.Second)
	}
	before := l.mints.Load()

	var wg sync.WaitGroup
	tokens := make(chan string, tabs+posts)
	start := make(chan struct{})
	for i := range posts {
		wg.Go(func() {
			<-start
			tr, err := l.refreshHTTP(t, ck)
			if err != nil {
				t.Errorf("refresh %d: %v", i, err)
			}
			tokens <- tr.Token
		})
	}
	for i, c := range conns {
		wg.Go(func() {
			<-start
			id := "tab" + itoa(i)
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.WriteMessage(websocket.TextMessage, protocol.Encode(protocol.Message{Type: protocol.TypeRenew, ID: id}))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					t.Errorf("tab %d: %v", i, err)
					return
				}
				m, _ := protocol.Decode(data)
				if m.Type == protocol.TypeToken && m.ID == id {
					tokens <- m.Token
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(tokens)
	distinct := map[string]bool{}
	for tok := range tokens {
		distinct[tok] = true
	}
	if n := l.mints.Load() - before; n != 1 || len(distinct) != 1 {
		t.Errorf("%d renewal requests (HTTP and socket) minted %d tokens and handed out %d distinct ones, want 1",
			tabs+posts, n, len(distinct))
	}
}

func TestWSLogoutRevokes(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	_, ck := l.signIn(t, 600)
	a, b := l.mustDial(t, ck), l.mustDial(t, ck)
	for _, c := range []*websocket.Conn{a, b} {
		expect(t, c, protocol.TypeHello, 5*time.Second)
	}
	req, _ := http.NewRequest("POST", l.srv.URL+"/logout", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	for _, c := range []*websocket.Conn{a, b} {
		if m := expect(t, c, protocol.TypeRevoked, 5*time.Second); m.Reason != "logout" {
			t.Errorf("revoked %+v", m)
		}
		expectClose(t, c, protocol.CloseRevoked)
	}
	if _, resp, err := l.dial(ck, l.srv.URL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dial after logout: %v", err)
	}
}

func TestWSRefusesBeforeUpgrading(t *testing.T) {
	t.Parallel()
	l := newLive(t, func(c *config.Config) { c.AllowedOrigins = []string{"https://app.example"} }, nil)
	_, ck := l.signIn(t, 600)
	bad := &http.Cookie{Name: ck.Name, Value: ck.Value[:20]}
	tests := []struct {
		name   string
		cookie *http.Cookie
		origin string
		status int
		code   string
	}{
		{"cross-origin", ck, "https://evil.example", http.StatusForbidden, api.CodeCrossOrigin},
		{"cross-origin, same host other port", ck, "http://127.0.0.1:1", http.StatusForbidden, api.CodeCrossOrigin},
		{"anonymous", nil, l.srv.URL, http.StatusUnauthorized, api.CodeNoSession},
		{"truncated cookie", bad, l.srv.URL, http.StatusUnauthorized, api.CodeSessionInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, resp, err := l.dial(tt.cookie, tt.origin, nil)
			if err == nil {
				c.Close()
				t.Fatal("upgraded")
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("dial: %v, want status %d", err, tt.status)
			}
			var e errorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Code != tt.code {
				t.Errorf("body %+v (%v), want code %s", e, err, tt.code)
			}
		})
	}
	t.Run("allowed origin", func(t *testing.T) {
		c, _, err := l.dial(ck, "https://app.example", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
	t.Run("not a WebSocket request", func(t *testing.T) {
		req, _ := http.NewRequest("GET", l.srv.URL+"/ws", nil)
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e errorBody
		json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != http.StatusBadRequest || e.Error.Code != api.CodeNotWebSocket {
			t.Errorf("%d %+v", resp.StatusCode, e)
		}
	})
}

func TestWSClientMessages(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	_, ck := l.signIn(t, 600)
	ws := l.mustDial(t, ck)
	expect(t, ws, protocol.TypeHello, 5*time.Second)

	send(t, ws, protocol.Message{Type: protocol.TypePing, ID: "p1"})
	pong := expect(t, ws, protocol.TypePong, 5*time.Second)
	if pong.ID != "p1" || time.Since(time.UnixMilli(pong.ServerTimeMS)).Abs() > time.Second {
		t.Errorf("pong %+v", pong)
	}
	for _, tt := range []struct{ frame, want string }{
		{`not json`, "not valid JSON"},
		{`{"type":"nope"}`, `unknown type "nope"`},
		{`{"type":"ping","extra":1}`, `"extra" is not a known field`},
		{`{"type":"hello","server_time_ms":1}`, "sent by the server"},
	} {
		ws.WriteMessage(websocket.TextMessage, []byte(tt.frame))
		e := expect(t, ws, protocol.TypeError, 5*time.Second)
		if e.Code != protocol.ErrCodeBadMessage || !strings.Contains(e.Text, tt.want) {
			t.Errorf("%s: error %+v, want bad_message saying %q", tt.frame, e, tt.want)
		}
	}
	// The connection survived the bad messages.
	send(t, ws, protocol.Message{Type: protocol.TypePing, ID: "p2"})
	if pong := expect(t, ws, protocol.TypePong, 5*time.Second); pong.ID != "p2" {
		t.Errorf("pong %+v", pong)
	}

	t.Run("binary frame closes 1003", func(t *testing.T) {
		c := l.mustDial(t, ck)
		expect(t, c, protocol.TypeHello, 5*time.Second)
		c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		expectClose(t, c, websocket.CloseUnsupportedData)
	})
	t.Run("oversized message closes 1009", func(t *testing.T) {
		c := l.mustDial(t, ck)
		expect(t, c, protocol.TypeHello, 5*time.Second)
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","id":"`+strings.Repeat("x", 600)+`"}`))
		expectClose(t, c, websocket.CloseMessageTooBig)
	})
	t.Run("flooding closes 4029", func(t *testing.T) {
		c := l.mustDial(t, ck)
		expect(t, c, protocol.TypeHello, 5*time.Second)
		for range 40 {
			if c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)) != nil {
				break
			}
		}
		// The answers to the allowed burst, then the error, then the close.
		var last protocol.Message
		for {
			m := read(t, c, 5*time.Second)
			if m.Type != protocol.TypePong {
				last = m
				break
			}
		}
		if last.Type != protocol.TypeError || last.Code != protocol.ErrCodeRateLimited {
			t.Errorf("after the burst: %+v, want error rate_limited", last)
		}
		reason := expectClose(t, c, protocol.CloseRateLimited)
		if !strings.Contains(reason, "messages a second") {
			t.Errorf("close reason %q", reason)
		}
	})
}

func TestWSConnectionLimitPerSession(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	_, ck := l.signIn(t, 600)
	for range hub.DefaultMaxConnsPerSession {
		expect(t, l.mustDial(t, ck), protocol.TypeHello, 5*time.Second)
	}
	c := l.mustDial(t, ck)
	reason := expectClose(t, c, protocol.CloseTooMany)
	if !strings.Contains(reason, "8 connections") {
		t.Errorf("close reason %q does not name the limit", reason)
	}
}

func TestWSShutdownGoesAway(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	_, ck := l.signIn(t, 600)
	ws := l.mustDial(t, ck)
	expect(t, ws, protocol.TypeHello, 5*time.Second)
	l.hub.Shutdown()
	expectClose(t, ws, websocket.CloseGoingAway)
}

// smallBuffers shrinks the kernel buffers of accepted connections, so a
// client that stops reading fills them after a few kilobytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

func TestWSSlowClientIsDropped(t *testing.T) {
	t.Parallel()
	s := newStack(t, fixture{hub: func(o *hub.Options) { o.CoalesceWindow = -1 }})
	srv := httptest.NewUnstartedServer(s.handler)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	l := &live{stack: s, srv: srv}
	_, ck := l.signIn(t, 600)

	slowDialer := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	slow, _, err := l.dial(ck, srv.URL, slowDialer)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close() // and never read
	fast := l.mustDial(t, ck)
	expect(t, fast, protocol.TypeHello, 5*time.Second)

	const maxRenewals = 3000
	dropped := false
	n := 0
	for ; n < maxRenewals && !dropped; n++ {
		tr, err := l.refreshHTTP(t, ck)
		if err != nil {
			t.Fatal(err)
		}
		// Every renewal reaches the reading tab, whatever the other does.
		if m := expect(t, fast, protocol.TypeToken, 5*time.Second); m.Token != tr.Token {
			t.Fatalf("renewal %d: the reading tab got %s", n, m.JTI)
		}
		dropped = l.hub.Connections() == 1
	}
	if !dropped {
		t.Fatalf("a tab that never reads is still attached after %d renewals", n)
	}
	t.Logf("the tab that stopped reading was dropped after %d pushed renewals", n)
	// The reading tab keeps working.
	tr, err := l.refreshHTTP(t, ck)
	if err != nil {
		t.Fatal(err)
	}
	if m := expect(t, fast, protocol.TypeToken, 5*time.Second); m.Token != tr.Token {
		t.Errorf("after the drop: %+v", m)
	}
}

// BenchmarkIdleConnectionMemory reports the server-side memory of an idle
// connection: heap and goroutine stacks after n connections are open,
// divided by n. The clients run in a child process (TestHelperIdleClients)
// so that their memory is not counted.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	const n = 2000
	l := newLive(b, nil, func(o *hub.Options) { o.MaxConnsPerSession = n })
	_, ck := l.signIn(b, 3600)
	heap0, stack0 := memInUse()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperIdleClients$")
	cmd.Env = append(os.Environ(), helperEnv+"="+l.wsURL(), helperEnv+"_COOKIE="+ck.Name+"="+ck.Value,
		helperEnv+"_ORIGIN="+l.srv.URL, helperEnv+"_N="+itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close() // the child exits when its stdin closes
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("the client process said %q (%v)", line, err)
	}
	for l.hub.Connections() != n {
		time.Sleep(10 * time.Millisecond)
	}
	heap1, stack1 := memInUse()
	b.ReportMetric(float64(heap1+stack1-heap0-stack0)/n, "B/conn")
	b.ReportMetric(float64(heap1-heap0)/n, "heap-B/conn")
	b.ReportMetric(float64(stack1-stack0)/n, "stack-B/conn")
	for range b.N {
		// The measurement is the setup above; b.N only satisfies the framework.
	}
}

// helperEnv tells TestHelperIdleClients where to connect.
const helperEnv = "TOKENLAB_TEST_IDLE_CLIENTS"

// TestHelperIdleClients holds idle connections for
// BenchmarkIdleConnectionMemory in a process of its own; run directly it
// skips.
func TestHelperIdleClients(t *testing.T) {
	url := os.Getenv(helperEnv)
	if url == "" {
		t.Skip("a helper process of BenchmarkIdleConnectionMemory")
	}
	n, _ := strconv.Atoi(os.Getenv(helperEnv + "_N"))
	h := http.Header{"Cookie": {os.Getenv(helperEnv + "_COOKIE")}, "Origin": {os.Getenv(helperEnv + "_ORIGIN")}}
	d := &websocket.Dialer{ReadBufferSize: 256, WriteBufferSize: 256}
	var conns []*websocket.Conn
	for range n {
		c, _, err := d.Dial(url, h)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, c, protocol.TypeHello, 10*time.Second)
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

func memInUse() (heap, stack uint64) {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse
}
