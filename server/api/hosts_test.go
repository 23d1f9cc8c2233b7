package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
)

// answer is what one request of a parallel attack got.
type answer struct {
	status int
	header http.Header
	body   string
	err    error
}

// hostRequest is one request of an attack, sent with a chosen Host.
type hostRequest struct {
	method, path, body string
	header             map[string]string
	withCookie         bool
}

// sendAll sends every request at once (they wait at a barrier, then go
// together) with the given Host and returns the answers in order.
func sendAll(tb testing.TB, base, host string, ck *http.Cookie, reqs []hostRequest) []answer {
	tb.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	answers := make([]answer, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, rq := range reqs {
		var body io.Reader
		if rq.body != "" {
			body = strings.NewReader(rq.body)
		}
		req, err := http.NewRequest(rq.method, base+rq.path, body)
		if err != nil {
			tb.Fatal(err)
		}
		req.Host = host
		for k, v := range rq.header {
			req.Header.Set(k, v)
		}
		if rq.withCookie {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		wg.Go(func() {
			<-start
			resp, err := client.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers[i] = answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
		})
	}
	close(start)
	wg.Wait()
	return answers
}

// TestRebindingRefusedOnEveryRoute plays a page on a rebinding domain:
// its name now resolves to the server, so it sends the server its own
// Host and Origin, on every route at once and with the victim's cookie.
// Nothing is served, and nothing changes: no sign-in, no revoke, no
// logout. The same requests addressed to localhost then work.
func TestRebindingRefusedOnEveryRoute(t *testing.T) {
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	id := l.hub.Sessions()[0].ID
	port := l.srv.URL[strings.LastIndexByte(l.srv.URL, ':')+1:]
	forged := "evil.example:" + port
	origin := map[string]string{"Origin": "http://" + forged}
	js := map[string]string{"Origin": "http://" + forged, "Content-Type": "application/json"}
	attack := []hostRequest{
		{method: "GET", path: "/"},
		{method: "HEAD", path: "/"},
		{method: "GET", path: "/app.js"},
		{method: "GET", path: "/style.css"},
		{method: "GET", path: "/gen/wasm_exec.js"},
		{method: "GET", path: "/gen/tokenlab.wasm"},
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/.env"},
		{method: "GET", path: "/ws"},
		{method: "GET", path: "/admin/sessions", header: origin},
		{method: "POST", path: "/admin/sessions/" + id + "/revoke", header: origin},
		{method: "POST", path: "/token", header: js, body: `{"username":"mallory","password":"x"}`},
		{method: "POST", path: "/token/verify", header: js, body: `{"token":"a.b.c"}`},
		{method: "POST", path: "/token/refresh", header: origin, withCookie: true},
		{method: "POST", path: "/logout", header: origin, withCookie: true},
		// The embed, its preflights and the lab: a rebinding page would
		// load the program as its own and order the session's faults.
		{method: "GET", path: "/embed.js"},
		{method: "OPTIONS", path: "/token", header: map[string]string{"Origin": "http://" + forged, "Access-Control-Request-Method": "POST"}},
		{method: "POST", path: "/lab/expire", header: origin, withCookie: true},
		{method: "POST", path: "/lab/fail", header: js, withCookie: true, body: `{"count":100,"status":503}`},
		{method: "POST", path: "/admin/sessions/" + id + "/drop", header: js, body: `{"code":1006}`},
	}

	// The sockets join the attack at the same time: the page's, and the
	// Twilio SDKs' (twilsock and Voice signaling), which check no Origin.
	sockets := []string{"/ws", "/v3/wsconnect", "/signal"}
	wsDone := make([]chan *http.Response, len(sockets))
	for i, path := range sockets {
		wsDone[i] = make(chan *http.Response, 1)
		go func() {
			h := http.Header{"Host": {forged}, "Origin": {"http://" + forged}, "Cookie": {ck.Name + "=" + ck.Value}}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, resp, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(l.srv.URL, "http")+path, h)
			if err == nil {
				c.Close()
			}
			wsDone[i] <- resp
		}()
	}
	answers := sendAll(t, l.srv.URL, forged, ck, attack)

	for i, a := range answers {
		rq := attack[i]
		if a.err != nil {
			t.Errorf("%s %s: %v", rq.method, rq.path, a.err)
			continue
		}
		if a.status != http.StatusMisdirectedRequest {
			t.Errorf("%s %s with Host %s: status %d, want 421: %.200s", rq.method, rq.path, forged, a.status, a.body)
			continue
		}
		if a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: refusal without the security headers: %v", rq.method, rq.path, a.header)
		}
		if rq.method == "HEAD" {
			continue
		}
		var e errorBody
		if err := json.Unmarshal([]byte(a.body), &e); err != nil {
			t.Errorf("%s %s: refusal is not JSON: %.200s", rq.method, rq.path, a.body)
			continue
		}
		if e.Error.Code != api.CodeHostNotAllowed || !strings.Contains(e.Error.Message, config.EnvAllowedHosts) || !strings.Contains(e.Error.Message, `"evil.example"`) {
			t.Errorf("%s %s: error %+v, want %s naming the name and %s", rq.method, rq.path, e.Error, api.CodeHostNotAllowed, config.EnvAllowedHosts)
		}
	}
	for i, path := range sockets {
		status := 0
		if resp := <-wsDone[i]; resp != nil {
			status = resp.StatusCode
		}
		if status != http.StatusMisdirectedRequest {
			t.Errorf("WebSocket upgrade of %s with Host and Origin %s: status %d, want 421", path, forged, status)
		}
	}

	// Nothing the attack sent took effect.
	if n := len(l.hub.Sessions()); n != 1 {
		t.Errorf("%d sessions after the attack, want the victim's only", n)
	}
	if _, err := l.refreshHTTP(t, ck); err != nil {
		t.Fatalf("the victim's session after the attack: %v", err)
	}

	// The same operator request addressed to localhost is served, so the
	// refusal above was the Host's doing.
	local := "localhost:" + port
	ok := sendAll(t, l.srv.URL, local, ck, []hostRequest{
		{method: "GET", path: "/"},
		{method: "POST", path: "/admin/sessions/" + id + "/revoke", header: map[string]string{"Origin": "http://" + local}},
	})
	for i, a := range ok {
		if a.err != nil || a.status != http.StatusOK {
			t.Errorf("request %d with Host %s: %d %v %.200s", i, local, a.status, a.err, a.body)
		}
	}
	if _, err := l.refreshHTTP(t, ck); err == nil {
		t.Error("the session renews after the operator's revoke from localhost")
	}
}

// TestHostNames checks which Host headers are served: loopback names and
// IP addresses on any port, TOKENLAB_HOST when it is a name, and the
// names (or the names under a dotted entry) in TOKENLAB_ALLOWED_HOSTS.
func TestHostNames(t *testing.T) {
	h := newStack(t, fixture{auth: mustUsersFile(t), now: at(t0), config: func(c *config.Config) {
		c.Host = "MyBox.lan"
		c.AllowedHosts = []string{"tokenlab.test", ".dev.example"}
	}}).handler
	served := []string{
		"localhost", "localhost:8080", "LocalHost:1", "localhost.:80",
		"127.0.0.1", "127.0.0.1:9", "[::1]:8080", "[::1]", "::1",
		"192.0.2.7:80", "10.0.0.5", "[2001:db8::1]:443", "[fe80::1%25eth0]:80",
		"mybox.lan", "MYBOX.LAN:8080",
		"tokenlab.test:443", "TOKENLAB.TEST", "tokenlab.test.",
		"dev.example", "app.dev.example:8080", "a.b.dev.example",
	}
	refused := []string{
		"evil.example", "evil.example:8080", "localhost.evil.example", "evil.localhost",
		"127.0.0.1.nip.io", "0x7f000001", "2130706433", "[evil.example]:80",
		"tokenlab.test.evil.example", "xtokenlab.test", "evildev.example", "example",
		"localhost:80:80", ":8080",
	}
	for _, host := range served {
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.Host = host
		if rec := do(t, h, r); rec.Code != http.StatusOK {
			t.Errorf("Host %q: %d, want it served: %s", host, rec.Code, rec.Body)
		}
	}
	for _, host := range refused {
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.Host = host
		if e := decodeError(t, do(t, h, r), http.StatusMisdirectedRequest); e.Error.Code != api.CodeHostNotAllowed {
			t.Errorf("Host %q: code %s", host, e.Error.Code)
		}
	}
}

// TestRefusedHostLoggedOnce: a refused request writes exactly one log
// line, which names the Host, and nothing else runs for it.
func TestRefusedHostLoggedOnce(t *testing.T) {
	logs := &lockedBuffer{}
	h := newStack(t, fixture{auth: mustUsersFile(t), now: at(t0), log: slog.New(slog.NewTextHandler(logs, nil))}).handler
	r := jsonReq("POST", "/token", `{"username":"susan","password":"secret"}`)
	r.Host = "evil.example:8080"
	decodeError(t, do(t, h, r), http.StatusMisdirectedRequest)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "host=evil.example:8080") || !strings.Contains(lines[0], "status=421") {
		t.Errorf("log of a refused Host, want one line naming it:\n%s", logs)
	}
}

// TestAdminNotLocalThroughProxy plays a same-host proxy forwarding the
// network's requests: every connection is from loopback, but a request
// carrying a proxy's mark is not local, so without an admin token the
// operator routes refuse it, listing and revoking alike. Plain loopback
// requests and the admin token keep working.
func TestAdminNotLocalThroughProxy(t *testing.T) {
	l := newLive(t, nil, nil)
	_, ck := l.signIn(t, 600)
	id := l.hub.Sessions()[0].ID
	host := strings.TrimPrefix(l.srv.URL, "http://")
	marks := []map[string]string{
		{"Forwarded": "for=192.0.2.7;proto=https"},
		{"X-Forwarded-For": "192.0.2.7"},
		{"X-Forwarded-For": ""},
		{"X-Forwarded-Host": "tokenlab.example"},
		{"X-Real-IP": "192.0.2.7"},
		{"Via": "1.1 caddy"},
	}
	var attack []hostRequest
	for _, m := range marks {
		m["Origin"] = l.srv.URL
		attack = append(attack,
			hostRequest{method: "GET", path: "/admin/sessions", header: m},
			hostRequest{method: "POST", path: "/admin/sessions/" + id + "/revoke", header: m})
	}
	for i, a := range sendAll(t, l.srv.URL, host, ck, attack) {
		if a.err != nil || a.status != http.StatusForbidden {
			t.Errorf("%s %s with %v: %d %v, want 403", attack[i].method, attack[i].path, attack[i].header, a.status, a.err)
			continue
		}
		var e errorBody
		if json.Unmarshal([]byte(a.body), &e) != nil || e.Error.Code != api.CodeAdminForbidden ||
			!strings.Contains(e.Error.Message, config.EnvAdminToken) || !strings.Contains(e.Error.Message, "proxy") {
			t.Errorf("%v: error %s, want %s saying to set %s", attack[i].header, a.body, api.CodeAdminForbidden, config.EnvAdminToken)
		}
	}
	if _, err := l.refreshHTTP(t, ck); err != nil {
		t.Fatalf("the session after the proxied revokes: %v", err)
	}
	direct := sendAll(t, l.srv.URL, host, ck, []hostRequest{{method: "GET", path: "/admin/sessions"}})
	if direct[0].status != http.StatusOK {
		t.Errorf("a plain loopback request: %d %.200s", direct[0].status, direct[0].body)
	}

	const adminToken = "admin-token-0123456789"
	g := newLive(t, func(c *config.Config) { c.AdminToken = adminToken }, nil)
	proxied := map[string]string{"X-Forwarded-For": "192.0.2.7"}
	withToken := map[string]string{"X-Forwarded-For": "192.0.2.7", "Authorization": "Bearer " + adminToken}
	got := sendAll(t, g.srv.URL, strings.TrimPrefix(g.srv.URL, "http://"), nil, []hostRequest{
		{method: "GET", path: "/admin/sessions", header: withToken},
		{method: "GET", path: "/admin/sessions", header: proxied},
	})
	if got[0].status != http.StatusOK || got[1].status != http.StatusUnauthorized {
		t.Errorf("behind a proxy with the admin token configured: with it %d, without %d; want 200 and 401", got[0].status, got[1].status)
	}
}
