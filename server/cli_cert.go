package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/tlscert"
	"github.com/tokenlab/tokenlab/shared/token"
)

// cmdCert shows the certificate a TLS server uses, so that a browser or a
// test can trust exactly it: from the files the configuration names (the
// certificate, or the self-signed one kept in the state directory), or
// else from the running server itself.
func cmdCert(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "cert")
	server := fs.String("server", "", "read the certificate from this running server (https://HOST:PORT) instead of the configured files")
	pemOut := fs.Bool("pem", false, "print the certificate as PEM (no key) instead of its description")
	out := fs.String("out", "", "write the certificate as PEM (no key) to this file")
	ov := config.Bind(fs, config.EnvStateDir, config.EnvTLSCert, config.EnvTLSKey, config.EnvPort, config.EnvHost)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("cert takes no arguments, got %q (run `tokenlab help cert`)", fs.Args())
	}
	var leaf *x509.Certificate
	var from string
	var err error
	if *server != "" {
		leaf, err = fetchCert(ctx, *server)
		from = *server
	} else {
		leaf, from, err = configuredCert(e, ov)
	}
	if err != nil {
		return err
	}
	c := tlscert.Cert{Leaf: leaf}
	if *out != "" {
		if err := os.WriteFile(*out, c.PEM(), 0o644); err != nil {
			return fmt.Errorf("cert: %w", err)
		}
	}
	if *pemOut {
		_, err := e.stdout.Write(c.PEM())
		return err
	}
	var names []string
	names = append(names, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	fmt.Fprintf(e.stdout, "certificate from %s\n", from)
	fmt.Fprintf(e.stdout, "  names:    %s\n", strings.Join(names, ", "))
	fmt.Fprintf(e.stdout, "  valid:    %s to %s\n", token.Stamp(leaf.NotBefore.Unix()), token.Stamp(leaf.NotAfter.Unix()))
	fmt.Fprintf(e.stdout, "  sha256:   %s\n", c.Fingerprint())
	fmt.Fprintf(e.stdout, "  spki:     %s\n", c.SPKIPin())
	fmt.Fprintf(e.stdout, "Chromium trusts exactly this key with --ignore-certificate-errors-spki-list=%s;\n", c.SPKIPin())
	fmt.Fprintln(e.stdout, "`tokenlab cert --out tokenlab.pem` writes it for a trust store (NODE_EXTRA_CA_CERTS, certutil).")
	if *out != "" {
		fmt.Fprintf(e.stdout, "written to %s\n", *out)
	}
	return nil
}

// configuredCert reads the certificate the configuration names: the
// user's file, or the self-signed one kept in the state directory.
func configuredCert(e env, ov config.Overrides) (*x509.Certificate, string, error) {
	cfg, err := loadConfig(e, ov)
	if err != nil {
		return nil, "", err
	}
	path := cfg.TLSCert
	if path == "" && cfg.StateDir != "" {
		path = filepath.Join(cfg.StateDir, tlscert.CertFile)
	}
	if path == "" {
		return nil, "", usageErrorf("cert: no certificate file is configured (%s, or %s where serve keeps its self-signed one): give --server https://HOST:PORT to read it from the running server",
			config.EnvTLSCert, config.EnvStateDir)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && cfg.TLSCert == "" {
		return nil, "", fmt.Errorf("cert: %s has no certificate yet: start the server once with TOKENLAB_TLS=on, or give --server", cfg.StateDir)
	}
	if err != nil {
		return nil, "", fmt.Errorf("cert: %w", err)
	}
	leaf, perr := firstCert(b)
	if perr != nil {
		return nil, "", fmt.Errorf("cert: %s: %w", path, perr)
	}
	return leaf, path, nil
}

// fetchCert reads the certificate a running server presents. It trusts
// nothing and verifies nothing: showing the certificate is the point, and
// the fingerprint is what the person then checks against the server's log.
func fetchCert(ctx context.Context, server string) (*x509.Certificate, error) {
	u, err := serverURL(env{}, server)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" {
		return nil, usageErrorf("cert: --server must be an https:// URL, got %q", server)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()}, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("cert: cannot reach %s over TLS (is the server running with TOKENLAB_TLS=on?): %w", u, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, fmt.Errorf("cert: %s presented no certificate", u)
	}
	return certs[0], nil
}

// firstCert parses the first CERTIFICATE block of a PEM file.
func firstCert(b []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no PEM CERTIFICATE block in it")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}
