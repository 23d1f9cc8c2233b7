package assemble

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/tlscert"
)

// TLS is the TLS configuration of a server with cfg.TLS set: the
// certificate the configuration names, or a self-signed one for the names
// the server answers for, kept in the state directory when there is one.
// Its fingerprints go to the log, so a browser or a test can trust exactly
// it. It speaks HTTP/1.1 only: WebSocket upgrades, and the hub's hijacked
// connections, are HTTP/1.1's.
func TLS(cfg config.Config, log *slog.Logger) (*tls.Config, error) {
	cert, err := serverCert(cfg, log)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
}

func serverCert(cfg config.Config, log *slog.Logger) (tlscert.Cert, error) {
	if cfg.TLSCert != "" {
		cert, err := tlscert.Load(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return cert, fmt.Errorf("%s/%s: %w", config.EnvTLSCert, config.EnvTLSKey, err)
		}
		log.Info("TLS certificate loaded", "file", cfg.TLSCert, "sha256", cert.Fingerprint(), "spki_sha256", cert.SPKIPin(), "expires", cert.Leaf.NotAfter)
		return cert, nil
	}
	cert, err := tlscert.SelfSigned(tlscert.Names(append([]string{cfg.Host}, cfg.AllowedHosts...)...), cfg.StateDir, time.Now())
	if err != nil {
		return cert, fmt.Errorf("%s: %w", config.EnvStateDir, err)
	}
	how := "made for this run (set TOKENLAB_STATE_DIR to keep it across restarts)"
	if cfg.StateDir != "" {
		how = "kept in " + cfg.StateDir
		if cert.Made {
			how = "made and kept in " + cfg.StateDir
		}
	}
	log.Warn("TLS with a self-signed certificate "+how+": trust it with `tokenlab cert`",
		"names", cert.Leaf.DNSNames, "ips", cert.Leaf.IPAddresses, "sha256", cert.Fingerprint(), "spki_sha256", cert.SPKIPin())
	return cert, nil
}
