package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/tlscert"
)

var fingerprintLine = regexp.MustCompile(`(?m)^  sha256:   (\S+)$`)

// TestServeOverTLS serves with TOKENLAB_TLS=on and a state directory, as a
// user trusting the self-signed certificate would: `tokenlab cert` exports
// it, a client trusting only it signs in over HTTPS (the cookie is Secure,
// no HSTS) and holds a WSS socket; a restart keeps the same certificate,
// and `cert --server` reads the same one from the running server.
func TestServeOverTLS(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TOKENLAB_TLS": "on", "TOKENLAB_STATE_DIR": dir}
	base, stop := serveCtl(t, env, "0")
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("the server says it serves %s, want https://", base)
	}
	exported := runCLI(t, env, "", "cert", "--pem")
	if exported.err != nil {
		t.Fatal(exported.err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(exported.stdout)) || strings.Contains(exported.stdout, "PRIVATE") {
		t.Fatalf("cert --pem printed no certificate, or a key:\n%s", exported.stdout)
	}
	tlsConf := &tls.Config{RootCAs: pool}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConf}}

	resp, err := client.Post(base+"/token", "application/json", strings.NewReader(`{"username":"alice","password":"pw","ttl":60}`))
	if err != nil {
		t.Fatalf("signing in over HTTPS with only the exported certificate trusted: %v", err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "tokenlab_session" {
			cookie = c
		}
	}
	if resp.StatusCode != 200 || cookie == nil || !cookie.Secure {
		t.Fatalf("sign-in over HTTPS: %d, session cookie %+v (want Secure)", resp.StatusCode, cookie)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS sent for localhost: %q", h)
	}
	dialer := websocket.Dialer{TLSClientConfig: tlsConf, HandshakeTimeout: 10 * time.Second}
	ws, _, err := dialer.Dial("wss"+strings.TrimPrefix(base, "https")+"/ws",
		http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}, "Origin": {base}})
	if err != nil {
		t.Fatalf("WSS: %v", err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), `"hello"`) {
		t.Errorf("WSS greeting: %s %v", msg, err)
	}
	ws.Close()

	// A plain HTTP client gets no page from a TLS server.
	if resp, err := http.Get("http" + strings.TrimPrefix(base, "https") + "healthz"); err == nil && resp.StatusCode == 200 {
		t.Error("a TLS server answered plain HTTP")
	}

	described := runCLI(t, env, "", "cert")
	kept := fingerprintLine.FindStringSubmatch(described.stdout)
	if described.err != nil || kept == nil {
		t.Fatalf("cert: %v\n%s", described.err, described.stdout)
	}
	fromServer := runCLI(t, nil, "", "cert", "--server", strings.TrimSuffix(base, "/"))
	if m := fingerprintLine.FindStringSubmatch(fromServer.stdout); fromServer.err != nil || m == nil || m[1] != kept[1] {
		t.Errorf("cert --server: %v\n%s\nwant sha256 %s", fromServer.err, fromServer.stdout, kept[1])
	}

	stop()
	base, _ = serveCtl(t, env, "0")
	again := runCLI(t, nil, "", "cert", "--server", strings.TrimSuffix(base, "/"))
	if m := fingerprintLine.FindStringSubmatch(again.stdout); m == nil || m[1] != kept[1] {
		t.Errorf("after a restart the server presents another certificate:\n%s\nwant sha256 %s", again.stdout, kept[1])
	}
}

// TestServeWithTheUsersCertificate serves the certificate and key files a
// user gives, and refuses half or contradictory TLS settings by name.
func TestServeWithTheUsersCertificate(t *testing.T) {
	dir := t.TempDir()
	c, err := tlscert.SelfSigned(tlscert.Names(), dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, tlscert.CertFile), filepath.Join(dir, tlscert.KeyFile)
	env := map[string]string{"TOKENLAB_TLS_CERT": certFile, "TOKENLAB_TLS_KEY": keyFile}
	base, _ := serveCtl(t, env, "0")
	got := runCLI(t, nil, "", "cert", "--server", strings.TrimSuffix(base, "/"))
	if !strings.Contains(got.stdout, c.Fingerprint()) {
		t.Errorf("the server does not present the user's certificate:\n%s", got.stdout)
	}

	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"certificate without key", map[string]string{"TOKENLAB_TLS_CERT": certFile}, "TOKENLAB_TLS_KEY"},
		{"TLS off with files", map[string]string{"TOKENLAB_TLS": "off", "TOKENLAB_TLS_CERT": certFile, "TOKENLAB_TLS_KEY": keyFile}, "TOKENLAB_TLS is off"},
		{"a typo", map[string]string{"TOKENLAB_TLS": "yes"}, "TOKENLAB_TLS must be off, on or self-signed"},
		{"a missing file", map[string]string{"TOKENLAB_TLS_CERT": filepath.Join(dir, "nope.pem"), "TOKENLAB_TLS_KEY": keyFile}, "nope.pem"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "", "serve", "--port", "0")
			if r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
				t.Errorf("serve: %v, want an error naming %q", r.err, tt.want)
			}
		})
	}
	if err := os.WriteFile(keyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, env, "", "serve", "--port", "0"); r.err == nil || !strings.Contains(r.err.Error(), "TOKENLAB_TLS_KEY") || strings.Contains(r.err.Error(), "garbage") {
		t.Errorf("serve with a broken key: %v", r.err)
	}
}
