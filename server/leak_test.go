package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
)

// recorder keeps every byte the server sent (and the requests, which hold
// no secret of the server's, only the user's password).
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) add(label string, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.buf, "\n--- %s\n", label)
	r.buf.Write(b)
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

// recordingTransport dumps every response, headers and body, as received.
type recordingTransport struct {
	rec  *recorder
	next http.RoundTripper
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	dump, err := httputil.DumpResponse(resp, true)
	if err != nil {
		return nil, err
	}
	t.rec.add(req.Method+" "+req.URL.Path, dump)
	return resp, nil
}

// forms are the ways a secret could be written out.
func forms(name string, raw []byte) map[string][]byte {
	out := map[string][]byte{
		name + " (raw)":               raw,
		name + " (hex)":               []byte(hex.EncodeToString(raw)),
		name + " (HEX)":               []byte(strings.ToUpper(hex.EncodeToString(raw))),
		name + " (base64)":            []byte(base64.RawStdEncoding.EncodeToString(raw)),
		name + " (base64url)":         []byte(base64.RawURLEncoding.EncodeToString(raw)),
		name + " (Go byte slice)":     []byte(strings.Trim(fmt.Sprint(raw), "[]")),
		name + " (escaped in JSON)":   []byte(fmt.Sprintf("%q", raw)),
		name + " (first half in hex)": []byte(hex.EncodeToString(raw[:len(raw)/2])),
	}
	return out
}

// TestNoSecretLeaves runs the real server with distinctive secrets, drives
// every route and error path over HTTP and the WebSocket, loads the page
// and its assets, shuts the server down, and searches everything it sent
// and logged for the API key secret, the session keys, the admin token and
// the user's password.
func TestNoSecretLeaves(t *testing.T) {
	apiSecret := "twsecret-" + rand.Text() + rand.Text()
	sessionKey := make([]byte, 32)
	rand.Read(sessionKey)
	adminToken := "admintok-" + rand.Text()
	password := "pw-" + rand.Text()
	sealKey, err := session.DeriveKey(sessionKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	usersFile := filepath.Join(dir, "users.json")
	for _, name := range []string{"susan", "bob"} {
		if _, err := users.Put(usersFile, name, password, []string{"video"}, bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": testAccount, "TWILIO_API_KEY_SID": testKey, "TWILIO_API_KEY_SECRET": apiSecret,
		"TOKENLAB_SESSION_KEY": hex.EncodeToString(sessionKey), "TOKENLAB_ADMIN_TOKEN": adminToken,
		"TOKENLAB_USERS_FILE": usersFile, "TOKENLAB_STATE_DIR": dir, "TOKENLAB_SIGNIN_LIMIT_USER": "3/1h",
		// Every line the server can write is searched, routine requests too.
		"TOKENLAB_LOG_LEVEL": "debug",
	}

	rec := &recorder{}
	srv := startServer(t, env, nil)
	base, logs, stdout := srv.url, srv.logs, srv.stdout
	client := &http.Client{Timeout: 10 * time.Second, Transport: recordingTransport{rec: rec,
		next: &http.Transport{DisableCompression: true}}}

	call := func(method, path, contentType, body string, header ...string) *http.Response {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, base+path, r)
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	const js = "application/json"

	// The page and every asset it names, in each encoding.
	page := call("GET", "/", "", "")
	if page.StatusCode != 200 {
		t.Fatalf("page: %d", page.StatusCode)
	}
	pageReq, _ := http.NewRequest("GET", base+"/", nil)
	resp, err := http.DefaultClient.Do(pageReq)
	if err != nil {
		t.Fatal(err)
	}
	index, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assets := regexp.MustCompile(`(?:src|href|data-wasm)="(/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
	if len(assets) < 3 {
		t.Fatalf("the page names %d assets: %s", len(assets), index)
	}
	for _, a := range assets {
		for _, enc := range []string{"", "gzip", "zstd"} {
			var h []string
			if enc != "" {
				h = []string{"Accept-Encoding", enc}
			}
			if r := call("GET", a[1], "", "", h...); r.StatusCode != 200 {
				t.Errorf("%s (%s): %d", a[1], enc, r.StatusCode)
			}
		}
	}

	// Sign in, and every sign-in error.
	signIn := call("POST", "/token", js, `{"username":"susan","password":"`+password+`","ttl":600}`)
	var cookie string
	for _, c := range signIn.Cookies() {
		if c.Name == session.CookieName {
			cookie = c.Name + "=" + c.Value
		}
	}
	if signIn.StatusCode != 200 || cookie == "" {
		t.Fatalf("sign-in: %d", signIn.StatusCode)
	}
	for _, e := range []struct{ ct, body string }{
		{js, `{"username":"susan","password":"wrong-` + password + `"}`},
		{js, `{"username":"ghost","password":"` + password + `"}`},
		{js, `{"username":"susan"}`},
		{js, `{"username":"susan",`},
		{js, `{"username":"susan","password":"x","ttl":0}`},
		{js, `{"username":"susan","password":"x","grants":{"chat":{"service_sid":"IS1"}}}`},
		{js, `{"username":"susan","password":"` + password + `","grants":{"voice":{}}}`},
		{js, `{"username":"susan","password":"x","nope":1}`},
		{"text/plain", `x`},
		{js, `{"password":"` + strings.Repeat("x", 70_000) + `"}`},
		{"application/x-www-form-urlencoded", "username=susan&password=wrong"},
		{js, `{"username":"susan","password":"wrong-again"}`}, // the 4th failure: 429
	} {
		call("POST", "/token", e.ct, e.body)
	}
	call("POST", "/token", "", "", "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("susan:"+password+"x")))
	call("POST", "/token", js, `{"username":"susan","password":"x"}`, "Sec-Fetch-Site", "cross-site")
	call("GET", "/token", "", "")
	call("GET", "/no-such-page", "", "")
	call("GET", "/gen/missing.wasm", "", "")
	call("GET", "/healthz", "", "")

	// Renew over HTTP; session errors.
	if r := call("POST", "/token/refresh", "", "", "Cookie", cookie); r.StatusCode != 200 {
		t.Errorf("refresh: %d", r.StatusCode)
	}
	call("POST", "/token/refresh", "", "")
	call("POST", "/token/refresh", "", "", "Cookie", cookie[:len(cookie)-5])
	call("POST", "/token/refresh", "", "", "Cookie", cookie+"A")
	call("POST", "/token/refresh", "text/plain", "x", "Cookie", cookie)

	// Inspect tokens: one of ours, one forged, garbage.
	var tok struct{ Token string }
	{
		req, _ := http.NewRequest("POST", base+"/token/refresh", nil)
		req.Header.Set("Cookie", cookie)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := jsonUnmarshal(body, &tok); err != nil || tok.Token == "" {
			t.Fatalf("refresh: %s", body)
		}
	}
	call("POST", "/token/verify", js, `{"token":"`+tok.Token+`"}`)
	call("POST", "/token/verify", js, `{"token":"`+tok.Token[:len(tok.Token)-3]+`abc"}`)
	call("POST", "/token/verify", js, `{"token":"eyJhbGciOiJub25lIn0.e30."}`)
	call("POST", "/token/verify", js, `{}`)

	// The WebSocket: hello, renew, ping, bad messages, a binary frame.
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	dialer := &websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	readAll := func(c *websocket.Conn, label string, n int) {
		for i := 0; i < n; i++ {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := c.ReadMessage()
			if err != nil {
				rec.add(label+" close", []byte(err.Error()))
				return
			}
			rec.add(label+" frame", data)
		}
	}
	ws, resp, err := dialer.Dial(wsURL, http.Header{"Cookie": {cookie}, "Origin": {base}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	dumpHandshake := func(resp *http.Response) {
		if resp != nil {
			d, _ := httputil.DumpResponse(resp, true)
			rec.add("GET /ws", d)
		}
	}
	dumpHandshake(resp)
	readAll(ws, "ws", 1)
	for _, m := range []string{`{"type":"renew","id":"r1"}`, `{"type":"ping","id":"p1"}`, `nope`, `{"type":"hello","server_time_ms":1}`, `{"TYPE":"ping"}`} {
		ws.WriteMessage(websocket.TextMessage, []byte(m))
		readAll(ws, "ws", 1)
	}
	ws.WriteMessage(websocket.BinaryMessage, []byte{0})
	readAll(ws, "ws", 2)
	ws.Close()
	for _, h := range []http.Header{
		{"Cookie": {cookie}, "Origin": {"https://evil.example"}},
		{"Origin": {base}},
		{"Cookie": {cookie + "x"}, "Origin": {base}},
	} {
		_, resp, _ := dialer.Dial(wsURL, h)
		dumpHandshake(resp)
	}

	// Voice signaling: a listen with the token and with a forged one,
	// register, a call, garbage.
	for _, first := range []string{tok.Token, tok.Token[:len(tok.Token)-3] + "abc"} {
		sig, resp, err := dialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/signal", nil)
		if err != nil {
			t.Fatalf("dial /signal: %v", err)
		}
		dumpHandshake(resp)
		for _, m := range []string{`{"type":"listen","payload":{"token":"` + first + `"}}`,
			`{"type":"register","payload":{"media":{"audio":true}}}`, `{"type":"invite","payload":{"callsid":"CA1","sdp":"v=0"}}`, `nope`} {
			sig.WriteMessage(websocket.TextMessage, []byte(m))
			readAll(sig, "signal", 1)
		}
		sig.Close()
	}

	// Operators: refused, listed, revoking; then the session is gone.
	call("GET", "/admin/sessions", "", "")
	call("GET", "/admin/sessions", "", "", "Authorization", "Bearer "+adminToken+"x")
	call("GET", "/admin/sessions", "", "", "Authorization", "Bearer "+adminToken)
	call("POST", "/admin/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAA/revoke", "", "", "Authorization", "Bearer "+adminToken)
	call("POST", "/admin/sessions/bad/revoke", "", "", "Authorization", "Bearer "+adminToken)
	ws2, resp, err := dialer.Dial(wsURL, http.Header{"Cookie": {cookie}, "Origin": {base}})
	if err != nil {
		var b []byte
		if resp != nil {
			b, _ = io.ReadAll(resp.Body)
			t.Fatalf("dial: %v %d %s", err, resp.StatusCode, b)
		}
		t.Fatalf("dial: %v", err)
	}
	dumpHandshake(resp)
	readAll(ws2, "ws2", 1)
	if r := call("POST", "/logout", "", "", "Cookie", cookie); r.StatusCode != http.StatusNoContent {
		t.Errorf("logout: %d", r.StatusCode)
	}
	readAll(ws2, "ws2", 3) // revoked, then the close
	ws2.Close()
	call("POST", "/token/refresh", "", "", "Cookie", cookie)
	call("POST", "/logout", "", "", "Cookie", cookie)

	// A socket open at shutdown gets 1001. (susan has run out of attempts.)
	signIn = call("POST", "/token", js, `{"username":"bob","password":"`+password+`"}`)
	for _, c := range signIn.Cookies() {
		if c.Name == session.CookieName {
			cookie = c.Name + "=" + c.Value
		}
	}
	ws3, resp, err := dialer.Dial(wsURL, http.Header{"Cookie": {cookie}, "Origin": {base}})
	if err != nil {
		t.Fatal(err)
	}
	dumpHandshake(resp)
	readAll(ws3, "ws3", 1)
	srv.shutdown()
	readAll(ws3, "ws3", 2)
	ws3.Close()
	if err := srv.wait(15 * time.Second); err != nil {
		t.Fatalf("serve: %v", err)
	}
	revocations, _ := os.ReadFile(filepath.Join(dir, session.RevocationsFile))

	everything := bytes.Join([][]byte{rec.bytes(), []byte(logs.String()), []byte(stdout.String()), revocations}, []byte("\n"))
	for _, want := range []string{"tokenlab listening", "sign-in failed", "GET /ws", `"type":"hello"`, `"type":"token"`, "1001", "4001", "1003", "session_revoked", "rate_limited"} {
		if !bytes.Contains(everything, []byte(want)) {
			t.Errorf("the capture lacks %q: the test did not exercise what it claims", want)
		}
	}
	secrets := map[string][]byte{}
	for name, raw := range map[string][]byte{
		"API key secret": []byte(apiSecret), "session key": sessionKey, "cookie sealing key": sealKey,
		"admin token": []byte(adminToken), "password": []byte(password),
	} {
		for k, v := range forms(name, raw) {
			secrets[k] = v
		}
	}
	for name, s := range secrets {
		if i := bytes.Index(everything, s); i >= 0 {
			lo, hi := max(0, i-200), min(len(everything), i+len(s)+50)
			t.Errorf("the %s appears in what the server sent or logged:\n%s", name, everything[lo:hi])
		}
	}
	t.Logf("searched %d bytes of answers, frames, assets and logs for %d forms of 5 secrets", len(everything), len(secrets))
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
