package tlscert_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/tlscert"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// TestSelfSignedIsTrustedForEveryName makes a certificate and checks, with
// a client that trusts only it, a real TLS handshake for each name.
func TestSelfSignedIsTrustedForEveryName(t *testing.T) {
	names := tlscert.Names("tokenlab.test", "0.0.0.0", "[::1]")
	if strings.Join(names, " ") != "localhost 127.0.0.1 ::1 tokenlab.test" {
		t.Fatalf("Names = %q", names)
	}
	c, err := tlscert.SelfSigned(names, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { conn.(*tls.Conn).Handshake(); conn.Close() }()
		}
	}()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.PEM()) {
		t.Fatal("the exported PEM does not parse")
	}
	for _, name := range names {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Errorf("handshake as %s: %v", name, err)
			continue
		}
		conn.Close()
	}
	if _, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "evil.example"}); err == nil {
		t.Error("a name the certificate does not cover was accepted")
	}
	if len(c.Fingerprint()) != 32*3-1 || len(c.SPKIPin()) != 44 || strings.Contains(string(c.PEM()), "PRIVATE") {
		t.Errorf("fingerprint %q, pin %q, PEM with a key: %v", c.Fingerprint(), c.SPKIPin(), strings.Contains(string(c.PEM()), "PRIVATE"))
	}
}

// TestSelfSignedIsKept checks the state directory: the same certificate
// comes back across starts, its key is the owner's alone, and a new one is
// made when the names grow or the kept one nears its end.
func TestSelfSignedIsKept(t *testing.T) {
	dir := t.TempDir()
	names := tlscert.Names()
	first, err := tlscert.SelfSigned(names, dir, now)
	if err != nil || !first.Made {
		t.Fatalf("first start: made=%v err=%v", first.Made, err)
	}
	info, err := os.Stat(filepath.Join(dir, tlscert.KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info.Mode(), err)
	}
	again, err := tlscert.SelfSigned(names, dir, now.Add(24*time.Hour))
	if err != nil || again.Made || again.Fingerprint() != first.Fingerprint() {
		t.Errorf("second start: made=%v same=%v err=%v", again.Made, again.Fingerprint() == first.Fingerprint(), err)
	}
	wider, err := tlscert.SelfSigned(tlscert.Names("tokenlab.test"), dir, now)
	if err != nil || !wider.Made || wider.Fingerprint() == first.Fingerprint() {
		t.Errorf("a new name: made=%v err=%v", wider.Made, err)
	}
	late, err := tlscert.SelfSigned(tlscert.Names("tokenlab.test"), dir, wider.Leaf.NotAfter.Add(-time.Hour))
	if err != nil || !late.Made {
		t.Errorf("near expiry: made=%v err=%v", late.Made, err)
	}
}

func TestBrokenFilesSayWhichAndWhat(t *testing.T) {
	dir := t.TempDir()
	if _, err := tlscert.SelfSigned(tlscert.Names(), dir, now); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tlscert.KeyFile), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := tlscert.SelfSigned(tlscert.Names(), dir, now)
	if err == nil || !strings.Contains(err.Error(), tlscert.KeyFile) || !strings.Contains(err.Error(), "delete") {
		t.Errorf("a broken kept key: %v", err)
	}
	_, err = tlscert.Load(filepath.Join(dir, "missing.pem"), filepath.Join(dir, tlscert.KeyFile))
	if err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("a missing certificate: %v", err)
	}
}
