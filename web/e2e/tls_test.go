package e2e_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tokenlab/tokenlab/server/tlscert"
)

// startTLSServer runs a second bin/tokenlab with TOKENLAB_TLS=on. Its
// self-signed certificate is made first, into the state directory the
// server keeps it in, so that the browser can be started trusting exactly
// it: pin is its key's SHA-256 for Chromium's
// --ignore-certificate-errors-spki-list.
func startTLSServer(bin string) (pin string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "tokenlab-e2e-tls-")
	if err != nil {
		return "", nil, err
	}
	cert, err := tlscert.SelfSigned(tlscert.Names(), dir, time.Now())
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	s := &server{bin: bin, dir: dir, port: "0",
		env:    []string{"TOKENLAB_TLS=on", "TOKENLAB_STATE_DIR=" + dir},
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, tlscert.CertFile)); err != nil {
		return "", nil, err
	}
	tlsURL = s.url
	return cert.SPKIPin(), func() { s.stop(false); os.RemoveAll(dir) }, nil
}
