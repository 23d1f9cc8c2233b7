// Package tlscert gives the server its TLS certificate: the pair of files
// a user names, or a self-signed certificate for the names the server
// answers for, made at start and kept in a state directory so that a
// browser or a test that trusted it once keeps trusting it.
//
// Fingerprints are what a person or a test pins: SHA-256 of the whole
// certificate (what `openssl x509 -fingerprint -sha256` prints and what
// browsers show) and of its public key (what Chromium's
// --ignore-certificate-errors-spki-list takes).
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names of the self-signed pair inside the state directory.
const (
	CertFile = "tls-cert.pem"
	KeyFile  = "tls-key.pem"
)

// selfSignedLife is how long a made certificate is valid. Browsers refuse
// publicly trusted leaves valid over 398 days; a local one is kept under
// that too, and made again (same directory, new key) when it runs out.
const selfSignedLife = 397 * 24 * time.Hour

// renewBefore makes a new certificate when the kept one has less than this
// left, so a long-running server does not expire under its users.
const renewBefore = 30 * 24 * time.Hour

// Cert is the server's certificate and what identifies it.
type Cert struct {
	TLS tls.Certificate
	// Leaf is the parsed certificate.
	Leaf *x509.Certificate
	// SelfSigned says it was made by tokenlab; Made says it was made at
	// this start rather than loaded from the state directory.
	SelfSigned, Made bool
}

// Fingerprint is the SHA-256 of the certificate, as colon-separated
// upper-case hex (the form browsers and openssl show).
func (c Cert) Fingerprint() string {
	sum := sha256.Sum256(c.Leaf.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// SPKIPin is the base64 SHA-256 of the certificate's public key, as
// Chromium's --ignore-certificate-errors-spki-list takes it.
func (c Cert) SPKIPin() string {
	sum := sha256.Sum256(c.Leaf.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// PEM is the certificate alone, PEM-encoded: what a browser or a test
// imports to trust it. It holds no key.
func (c Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Leaf.Raw})
}

// Load reads a certificate chain and its key from PEM files. Errors name
// the file and what is wrong with it, never the key's contents.
func Load(certFile, keyFile string) (Cert, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return Cert{}, fmt.Errorf("loading the certificate %s and key %s: %w", certFile, keyFile, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return Cert{}, fmt.Errorf("certificate %s: %w", certFile, err)
	}
	pair.Leaf = leaf
	return Cert{TLS: pair, Leaf: leaf}, nil
}

// SelfSigned returns a certificate for names (host names and IP
// addresses) made by tokenlab. With dir set, a kept certificate that
// still covers every name and has more than renewBefore left is loaded
// from there; otherwise a new one is made and, with dir set, written there
// (the key 0600).
func SelfSigned(names []string, dir string, now time.Time) (Cert, error) {
	if dir != "" {
		c, err := Load(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
		switch {
		case err == nil && covers(c.Leaf, names) && c.Leaf.NotAfter.Sub(now) > renewBefore && !now.Before(c.Leaf.NotBefore):
			c.SelfSigned = true
			return c, nil
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return Cert{}, fmt.Errorf("the kept self-signed certificate in %s cannot be used (%w): delete %s and %s to make a new one", dir, err, CertFile, KeyFile)
		}
	}
	certPEM, keyPEM, err := generate(names, now)
	if err != nil {
		return Cert{}, err
	}
	if dir != "" {
		if err := writeFile(filepath.Join(dir, KeyFile), keyPEM, 0o600); err != nil {
			return Cert{}, err
		}
		if err := writeFile(filepath.Join(dir, CertFile), certPEM, 0o644); err != nil {
			return Cert{}, err
		}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return Cert{}, err
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return Cert{}, err
	}
	pair.Leaf = leaf
	return Cert{TLS: pair, Leaf: leaf, SelfSigned: true, Made: true}, nil
}

// covers reports whether the certificate names every one of names.
func covers(leaf *x509.Certificate, names []string) bool {
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
				return false
			}
		} else if !slices.Contains(leaf.DNSNames, n) {
			return false
		}
	}
	return true
}

// generate makes an ECDSA P-256 key and a certificate for names signed by
// that key. The certificate may sign others (IsCA) so that it can be
// imported as a trust anchor, and is for server authentication only.
func generate(names []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "tokenlab local", Organization: []string{"tokenlab"}},
		NotBefore:             now.Add(-time.Hour), // a client clock a little behind still accepts it
		NotAfter:              now.Add(selfSignedLife),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeFile replaces path with data through a temporary file and a
// rename, so that a crash never leaves half a key.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tls-*")
	if err != nil {
		return fmt.Errorf("keeping the certificate: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("keeping the certificate: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Names lists the names a self-signed certificate must cover: loopback by
// name and address, plus the server's own host and allowed hosts.
func Names(extra ...string) []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	for _, n := range extra {
		n = strings.Trim(n, "[]")
		if n == "" || slices.Contains(names, n) {
			continue
		}
		if ip := net.ParseIP(n); ip != nil && ip.IsUnspecified() {
			continue
		}
		names = append(names, n)
	}
	return names
}
