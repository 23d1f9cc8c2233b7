package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/server/voicesignal"
	"github.com/tokenlab/tokenlab/shared/lint"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
)

func labOn(c *config.Config) { c.Lab = true }

// labAnswer is a lab route's answer: its status, headers and body.
type labAnswer struct {
	status int
	header http.Header
	body   string
}

func (a labAnswer) errorCode(tb testing.TB) (code, field, message string) {
	tb.Helper()
	var e struct {
		Error struct{ Code, Field, Message string }
	}
	if err := json.Unmarshal([]byte(a.body), &e); err != nil {
		tb.Fatalf("%d %s: %v", a.status, a.body, err)
	}
	return e.Error.Code, e.Error.Field, e.Error.Message
}

// post sends a POST to the live server, with the cookie and a browser's
// Origin (the server's own) when ck is given, and a JSON body when body
// is not empty.
func (l *live) labPost(tb testing.TB, path string, ck *http.Cookie, body string) labAnswer {
	tb.Helper()
	req, _ := http.NewRequest("POST", l.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if ck != nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		req.Header.Set("Origin", l.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return labAnswer{resp.StatusCode, resp.Header, string(b)}
}

func (l *live) mustPost(tb testing.TB, path string, ck *http.Cookie, body string) api.LabResponse {
	tb.Helper()
	a := l.labPost(tb, path, ck, body)
	var r api.LabResponse
	if a.status != 200 || json.Unmarshal([]byte(a.body), &r) != nil {
		tb.Fatalf("POST %s %s: %d %s", path, body, a.status, a.body)
	}
	return r
}

// sessionID is the id of the only session the hub has.
func (l *live) sessionID(tb testing.TB) string {
	tb.Helper()
	list := l.hub.Sessions()
	if len(list) != 1 {
		tb.Fatalf("the hub has %d sessions, want 1", len(list))
	}
	return list[0].ID
}

// TestLabExpireAndWarnNow: both ways in (the operator's route and the
// page's own) reach the tabs at once, and the renewal that follows mints
// although the token is only a moment old (the coalescing window would
// otherwise hand it back).
func TestLabExpireAndWarnNow(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, path, notice string }{
		{"operator expire", "/admin/sessions/{id}/expire", protocol.TypeExpired},
		{"own expire", "/lab/expire", protocol.TypeExpired},
		{"operator warn", "/admin/sessions/{id}/warn", protocol.TypeExpiring},
		{"own warn", "/lab/warn", protocol.TypeExpiring},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLive(t, labOn, nil)
			first, ck := l.signIn(t, 600)
			tabs := []*websocket.Conn{l.mustDial(t, ck), l.mustDial(t, ck)}
			for _, ws := range tabs {
				expect(t, ws, protocol.TypeHello, 5*time.Second)
			}
			path, cookie := strings.Replace(tt.path, "{id}", l.sessionID(t), 1), ck
			if strings.HasPrefix(path, "/admin/") {
				cookie = nil // the operator comes from loopback, without the page's cookie
			}
			if r := l.mustPost(t, path, cookie, ""); r.Connections != 2 {
				t.Errorf("answer %+v, want both tabs reached", r)
			}
			for _, ws := range tabs {
				if m := expect(t, ws, tt.notice, 5*time.Second); m.JTI != first.JTI || m.Reason != "lab" {
					t.Errorf("%s for jti %q reason %q, want the current token's %q and reason lab", tt.notice, m.JTI, m.Reason, first.JTI)
				}
			}
			mints := l.mints.Load()
			send(t, tabs[0], protocol.Message{Type: protocol.TypeRenew, ID: "r1"})
			got := expect(t, tabs[0], protocol.TypeToken, 5*time.Second)
			// Tokens minted in the same second are byte for byte the same,
			// so the mint count tells a new token from the one handed back.
			if got.ID != "r1" || l.mints.Load() != mints+1 {
				t.Errorf("renewal after %s: id %q, %d mints, want 1", tt.notice, got.ID, l.mints.Load()-mints)
			}
			if push := expect(t, tabs[1], protocol.TypeToken, 5*time.Second); push.Token != got.Token {
				t.Error("the other tab did not get the renewed token")
			}
		})
	}
}

// TestLabExpireNowNoStorm: every tab of a session renews at once after
// "expired"; the session still mints one token, shared by all.
func TestLabExpireNowNoStorm(t *testing.T) {
	t.Parallel()
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	const tabs = 6
	conns := make([]*websocket.Conn, tabs)
	for i := range conns {
		conns[i] = l.mustDial(t, ck)
		expect(t, conns[i], protocol.TypeHello, 5*time.Second)
	}
	l.mustPost(t, "/lab/expire", ck, "")
	mints := l.mints.Load()
	var start, wg sync.WaitGroup
	start.Add(1)
	tokens := make([]string, tabs)
	errs := make(chan string, tabs)
	for i, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, data, err := ws.ReadMessage(); err != nil || !strings.Contains(string(data), `"expired"`) {
				errs <- "no expired notice: " + string(data)
				return
			}
			start.Wait()
			ws.WriteMessage(websocket.TextMessage, protocol.Encode(protocol.Message{Type: protocol.TypeRenew, ID: "r"}))
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					errs <- err.Error()
					return
				}
				if m, _ := protocol.Decode(data); m.Type == protocol.TypeToken && m.ID == "r" {
					tokens[i] = m.Token
					return
				}
			}
		}()
	}
	start.Done()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	for _, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("tabs got different tokens: %q", tokens)
		}
	}
	if n := l.mints.Load() - mints; n != 1 {
		t.Errorf("%d tabs renewing after expire now minted %d tokens, want 1", tabs, n)
	}
}

// TestLabFailRenewals: the next N renewals fail with the chosen status,
// over HTTP and over the socket alike (they share one count), and then
// renewals work again by themselves. The lab's 401 leaves the cookie.
func TestLabFailRenewals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status     int
		code       string
		retryAfter string
	}{
		{401, api.CodeLabUnauthorized, ""},
		{429, api.CodeLabRateLimited, "7"},
		{500, api.CodeLabInternal, ""},
		{503, api.CodeLabUnavailable, "1"},
	} {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			l := newLive(t, labOn, nil)
			first, ck := l.signIn(t, 600)
			ws := l.mustDial(t, ck)
			expect(t, ws, protocol.TypeHello, 5*time.Second)
			body := `{"count":2,"status":` + strconv.Itoa(tt.status)
			if tt.status == 429 {
				body += `,"retry_after":7`
			}
			l.mustPost(t, "/admin/sessions/"+l.sessionID(t)+"/fail", nil, body+"}")

			a := l.labPost(t, "/token/refresh", ck, "")
			code, _, msg := a.errorCode(t)
			if a.status != tt.status || code != tt.code || a.header.Get("Retry-After") != tt.retryAfter {
				t.Errorf("refresh: %d %s Retry-After %q, want %d %s %q", a.status, code, a.header.Get("Retry-After"), tt.status, tt.code, tt.retryAfter)
			}
			if !strings.Contains(msg, "lab fault") || strings.Contains(a.header.Get("Set-Cookie"), "Max-Age=0") {
				t.Errorf("refresh: message %q, Set-Cookie %q", msg, a.header.Get("Set-Cookie"))
			}

			send(t, ws, protocol.Message{Type: protocol.TypeRenew, ID: "s1"})
			if m := expect(t, ws, protocol.TypeError, 5*time.Second); m.ID != "s1" || m.Code != protocol.ErrCodeRenewFailed || !strings.Contains(m.Text, strconv.Itoa(tt.status)) {
				t.Errorf("socket renewal: %+v", m)
			}
			// The fault has run out: the next renewal mints.
			mints := l.mints.Load()
			tr, err := l.refreshHTTP(t, ck)
			if err != nil || tr.Identity != first.Identity || l.mints.Load() != mints+1 {
				t.Fatalf("renewal after the fault: %v, %d mints", err, l.mints.Load()-mints)
			}
			if m := expect(t, ws, protocol.TypeToken, 5*time.Second); m.Token != tr.Token {
				t.Error("the tab did not get the renewed token")
			}
		})
	}
}

// TestLabFailCountsUnderParallelRenewals: renewals racing each other use
// up exactly the N failures ordered, no more and no fewer.
func TestLabFailCountsUnderParallelRenewals(t *testing.T) {
	t.Parallel()
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	l.mustPost(t, "/lab/fail", ck, `{"count":3,"status":500}`)
	const racers = 12
	var start, wg sync.WaitGroup
	start.Add(1)
	statuses := make(chan int, racers)
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", l.srv.URL+"/token/refresh", nil)
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
			start.Wait()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	start.Done()
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[500] != 3 || count[200] != racers-3 {
		t.Errorf("statuses %v, want 3×500 and %d×200", count, racers-3)
	}
}

// TestLabDelayRenewal: a delayed renewal is answered, with a new token,
// no sooner than the delay.
func TestLabDelayRenewal(t *testing.T) {
	t.Parallel()
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	const delay = 300 * time.Millisecond
	l.mustPost(t, "/lab/fail", ck, `{"delay_ms":300}`)
	mints := l.mints.Load()
	start := time.Now()
	_, err := l.refreshHTTP(t, ck)
	if took := time.Since(start); err != nil || took < delay || l.mints.Load() != mints+1 {
		t.Errorf("delayed renewal: %v after %v, %d mints", err, took, l.mints.Load()-mints)
	}
}

// TestLabSkew: tokens minted under a skew carry shifted nbf, exp and jti
// time, and lint says what Twilio would answer about them.
func TestLabSkew(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		seconds int64
		code    int
	}{
		{3600, lint.CodeNotYetValid}, // a server an hour ahead: not yet valid
		{-7200, lint.CodeExpired},    // two hours behind, ttl 600: expired
	} {
		t.Run(strconv.FormatInt(tt.seconds, 10), func(t *testing.T) {
			t.Parallel()
			l := newLive(t, labOn, nil)
			_, ck := l.signIn(t, 600)
			l.mustPost(t, "/lab/skew", ck, `{"seconds":`+strconv.FormatInt(tt.seconds, 10)+`}`)
			before := time.Now().Unix()
			tr, err := l.refreshHTTP(t, ck)
			after := time.Now().Unix()
			if err != nil {
				t.Fatal(err)
			}
			tok, err := token.Decode(tr.Token)
			if err != nil {
				t.Fatal(err)
			}
			nbf := tok.Claims.Nbf
			if nbf < before+tt.seconds || nbf > after+tt.seconds || tok.Claims.Exp != nbf+600 ||
				!strings.HasSuffix(tok.Claims.JTI, "-"+strconv.FormatInt(nbf, 10)) {
				t.Errorf("skewed claims nbf %d exp %d jti %s, want nbf now%+d", nbf, tok.Claims.Exp, tok.Claims.JTI, tt.seconds)
			}
			found := false
			for _, f := range lint.Check(tr.Token, time.Now()) {
				found = found || f.Code == tt.code
			}
			if !found {
				t.Errorf("lint of a token skewed %+ds: %v, want %d", tt.seconds, lint.Check(tr.Token, time.Now()), tt.code)
			}
			// Skew 0 clears it.
			l.mustPost(t, "/lab/skew", ck, `{"seconds":0}`)
			tr, _ = l.refreshHTTP(t, ck)
			if tok, _ := token.Decode(tr.Token); tok == nil || tok.Claims.Nbf < before || tok.Claims.Nbf > time.Now().Unix() {
				t.Errorf("after skew 0: %+v", tok)
			}
		})
	}
}

// TestLabDrop: the session's sockets close with the chosen code (1006:
// cut without a close frame) and the session lives on: a tab reconnects.
func TestLabDrop(t *testing.T) {
	t.Parallel()
	for _, code := range []int{1001, 1006, 4002} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			l := newLive(t, labOn, nil)
			_, ck := l.signIn(t, 600)
			ws := l.mustDial(t, ck)
			expect(t, ws, protocol.TypeHello, 5*time.Second)
			if r := l.mustPost(t, "/admin/sessions/"+l.sessionID(t)+"/drop", nil, `{"code":`+strconv.Itoa(code)+`}`); r.Connections != 1 {
				t.Errorf("answer %+v, want one connection dropped", r)
			}
			expectClose(t, ws, code)
			again := l.mustDial(t, ck)
			expect(t, again, protocol.TypeHello, 5*time.Second)
			if _, err := l.refreshHTTP(t, ck); err != nil {
				t.Errorf("the session did not outlive the drop: %v", err)
			}
		})
	}
}

// TestLabRefusals: the lab is off with a users file unless asked for, an
// unknown session is 404, and bad bodies are 400 naming the field.
func TestLabRefusals(t *testing.T) {
	t.Parallel()
	off := newLive(t, nil, nil)
	_, offCk := off.signIn(t, 600)
	for _, path := range []string{"/lab/expire", "/admin/sessions/" + off.sessionID(t) + "/expire"} {
		ck := offCk
		if strings.HasPrefix(path, "/admin/") {
			ck = nil
		}
		a := off.labPost(t, path, ck, "")
		if code, _, msg := a.errorCode(t); a.status != 403 || code != api.CodeLabOff || !strings.Contains(msg, config.EnvLab) {
			t.Errorf("%s with the lab off: %d %s %q", path, a.status, code, msg)
		}
	}

	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	id := l.sessionID(t)
	for _, tt := range []struct {
		name, path, body string
		status           int
		code, field      string
	}{
		{"unknown session", "/admin/sessions/" + strings.Repeat("A", 26) + "/expire", "", 404, api.CodeNotLive, ""},
		{"malformed id", "/admin/sessions/abc/warn", "", 400, api.CodeInvalidField, "id"},
		{"no body", "/lab/fail", "", 400, api.CodeBadJSON, ""},
		{"bad JSON", "/lab/fail", `{"count":`, 400, api.CodeBadJSON, ""},
		{"unknown field", "/lab/fail", `{"count":1,"status":503,"sttaus":1}`, 400, api.CodeUnknownField, "sttaus"},
		{"count too high", "/lab/fail", `{"count":101,"status":503}`, 400, api.CodeInvalidField, "count"},
		{"count negative", "/lab/fail", `{"count":-1,"status":503}`, 400, api.CodeInvalidField, "count"},
		{"count a string", "/lab/fail", `{"count":"2","status":503}`, 400, api.CodeInvalidField, "count"},
		{"status not offered", "/lab/fail", `{"status":418}`, 400, api.CodeInvalidField, "status"},
		{"neither status nor delay", "/lab/fail", `{"count":2}`, 400, api.CodeInvalidField, "status"},
		{"delay too long", "/admin/sessions/" + id + "/fail", `{"delay_ms":20001}`, 400, api.CodeInvalidField, "delay_ms"},
		{"retry_after with 500", "/lab/fail", `{"status":500,"retry_after":3}`, 400, api.CodeInvalidField, "retry_after"},
		{"retry_after too long", "/lab/fail", `{"status":429,"retry_after":301}`, 400, api.CodeInvalidField, "retry_after"},
		{"skew missing", "/lab/skew", `{}`, 400, api.CodeInvalidField, "seconds"},
		{"skew over a day", "/lab/skew", `{"seconds":86401}`, 400, api.CodeInvalidField, "seconds"},
		{"skew under a day", "/admin/sessions/" + id + "/skew", `{"seconds":-86401}`, 400, api.CodeInvalidField, "seconds"},
		{"drop code 1005", "/lab/drop", `{"code":1005}`, 400, api.CodeInvalidField, "code"},
		{"drop without code", "/lab/drop", `{}`, 400, api.CodeInvalidField, "code"},
		{"duplicate key", "/lab/drop", `{"code":1001,"code":4002}`, 400, api.CodeDuplicateField, "code"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cookie := ck
			if strings.HasPrefix(tt.path, "/admin/") {
				cookie = nil
			}
			a := l.labPost(t, tt.path, cookie, tt.body)
			code, field, msg := a.errorCode(t)
			if a.status != tt.status || code != tt.code || field != tt.field || msg == "" {
				t.Errorf("%d %s field %q %q, want %d %s field %q", a.status, code, field, msg, tt.status, tt.code, tt.field)
			}
		})
	}
	// Nothing was ordered by the refusals: renewals mint.
	if _, err := l.refreshHTTP(t, ck); err != nil {
		t.Errorf("renewal after refused orders: %v", err)
	}
}

// TestLabOwnRoutesRefuseOtherSites: the page's lab routes take the
// cookie's origin rules: another site's request is refused and orders
// nothing.
func TestLabOwnRoutesRefuseOtherSites(t *testing.T) {
	t.Parallel()
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	req, _ := http.NewRequest("POST", l.srv.URL+"/lab/fail", strings.NewReader(`{"count":5,"status":503}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site /lab/fail: %d, want 403", resp.StatusCode)
	}
	if _, err := l.refreshHTTP(t, ck); err != nil {
		t.Errorf("the refused order took effect: %v", err)
	}
}

// TestLabReachesTheSDKs: a fault ordered for a session reaches the Twilio
// SDK sockets of its identity (they carry a token, not the session): a
// twilsock client gets tokenAboutToExpire on warn now and the 410 close on
// expire now, and a Voice Device hears its token expired when an
// operator revokes the session.
func TestLabReachesTheSDKs(t *testing.T) {
	t.Parallel()
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	id := l.sessionID(t)
	base := "ws" + strings.TrimPrefix(l.srv.URL, "http")

	ws, _, err := websocket.DefaultDialer.Dial(base+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	sync, err := l.minter.Mint("alice", token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS00000000000000000000000000000000"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	frame := func() twilsock.Frame {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		f, err := twilsock.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	b, _ := twilsock.Encode(twilsock.Header{Method: twilsock.MethodInit, ID: "TMinit", Token: sync.Token, Capabilities: []string{"client_update"}}, nil)
	ws.WriteMessage(websocket.BinaryMessage, b)
	if f := frame(); f.Header.ID != "TMinit" {
		t.Fatalf("init answered with %+v", f.Header)
	}

	if r := l.mustPost(t, "/lab/warn", ck, ""); r.SDKConnections != 1 {
		t.Errorf("warn now: %+v, want the twilsock connection reached", r)
	}
	if f := frame(); f.Header.ClientUpdateType != twilsock.ClientUpdateTokenAboutToExpire {
		t.Errorf("after warn now the SDK got %+v", f.Header)
	}
	if r := l.mustPost(t, "/admin/sessions/"+id+"/expire", nil, ""); r.SDKConnections != 1 {
		t.Errorf("expire now: %+v", r)
	}
	if f := frame(); f.Header.Method != twilsock.MethodClose || f.Header.Status == nil || f.Header.Status.Code != twilsock.StatusTokenExpired {
		t.Errorf("after expire now the SDK got %+v", f.Header)
	}

	dev, _, err := websocket.DefaultDialer.Dial(base+"/signal", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	voice, err := l.minter.Mint("alice", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	next := func() voicesignal.Message {
		t.Helper()
		dev.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, data, err := dev.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if voicesignal.IsHeartbeat(data) {
				continue
			}
			m, err := voicesignal.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	listen, _ := voicesignal.Encode(voicesignal.TypeListen, voicesignal.Listen{Token: voice.Token})
	dev.WriteMessage(websocket.TextMessage, listen)
	if m := next(); m.Type != voicesignal.TypeConnected {
		t.Fatalf("listen answered with %s", m.Type)
	}
	a := l.labPost(t, "/admin/sessions/"+id+"/revoke", nil, "")
	if a.status != 200 {
		t.Fatalf("revoke: %d %s", a.status, a.body)
	}
	var e voicesignal.ErrorPayload
	if m := next(); m.Type != voicesignal.TypeError || m.PayloadInto(&e) != nil || e.Error.Code != voicesignal.CodeTokenExpired {
		t.Errorf("after the revoke the Device got %s %s, want 31205", m.Type, m.Payload)
	}
}

// TestLabDelayFitsTheWriteTimeout: the longest delay leaves time to write
// the renewal's answer before the server's write time-out cuts it.
func TestLabDelayFitsTheWriteTimeout(t *testing.T) {
	if margin := api.WriteTimeout - hub.MaxFaultDelay; margin < 5*time.Second {
		t.Errorf("a renewal delayed %v has %v left of the %v write time-out", hub.MaxFaultDelay, margin, api.WriteTimeout)
	}
}

// TestLabFromAnAllowedOrigin: a user's app at an origin in
// TOKENLAB_ALLOWED_ORIGINS orders faults for its own session as it renews:
// the preflight is granted and the answer carries the CORS headers; an
// unlisted origin's order is refused and takes no effect.
func TestLabFromAnAllowedOrigin(t *testing.T) {
	t.Parallel()
	l := newLive(t, func(c *config.Config) { c.Lab, c.AllowedOrigins = true, []string{appOrigin} }, nil)
	_, ck := l.signIn(t, 600)
	send := func(method, origin, site, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, l.srv.URL+"/lab/fail", strings.NewReader(body))
		req.Header.Set("Origin", origin)
		if method == "OPTIONS" {
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type")
		} else {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Sec-Fetch-Site", site)
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := send("OPTIONS", appOrigin, "", ""); resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin {
		t.Errorf("preflight from the app: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := send("POST", "https://evil.example", "cross-site", `{"count":1,"status":500}`); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an order from an unlisted origin: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := l.refreshHTTP(t, ck); err != nil {
		t.Errorf("the unlisted origin's order took effect: %v", err)
	}
	resp := send("POST", appOrigin, "same-site", `{"count":1,"status":500}`)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("an order from the app: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := l.refreshHTTP(t, ck); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("the app's order did not take: %v", err)
	}
}
