package e2e_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tokenlab/tokenlab/server/tlscert"
	"github.com/tokenlab/tokenlab/web/e2e/browser"
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
	// The certificate also names the sites of the cross-site embed test
	// (the browser resolves them to loopback), so that the server keeps it.
	cert, err := tlscert.SelfSigned(tlscert.Names(crossSiteName, appSiteName), dir, time.Now())
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	stopApp, err := startCrossSiteApp(cert.TLS)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	s := &server{Tokenlab: browser.Tokenlab{Bin: bin, Dir: dir},
		env: []string{"TOKENLAB_TLS=on", "TOKENLAB_STATE_DIR=" + dir,
			"TOKENLAB_ALLOWED_ORIGINS=" + appURL + "," + crossSiteAppURL, "TOKENLAB_ALLOWED_HOSTS=" + crossSiteName},
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	if err := s.start(); err != nil {
		stopApp()
		os.RemoveAll(dir)
		return "", nil, err
	}
	crossSiteURL = "https://" + crossSiteName + ":" + s.Port
	if _, err := os.Stat(filepath.Join(dir, tlscert.CertFile)); err != nil {
		return "", nil, err
	}
	tlsURL = s.url
	return cert.SPKIPin(), func() { s.stop(false); stopApp(); os.RemoveAll(dir) }, nil
}
