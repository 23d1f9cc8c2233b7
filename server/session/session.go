// Package session keeps tokenlab's sign-in sessions in sealed, stateless
// cookies: the cookie itself carries the identity, grants, token ttl and
// absolute expiry, encrypted and authenticated with AES-256-GCM under a key
// derived from the server's configuration. Because nothing lives only in
// memory, a restart with the same configuration signs nobody out. The one
// piece of server state is the revocation list (revocations.go), which lets
// logout and operators end a session before its cookie expires.
package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
)

// CookieName is the name of the session cookie.
const CookieName = "tokenlab_session"

// KeySize is the length of the sealing key in bytes (AES-256).
const KeySize = 32

// MaxCookieBytes bounds a sealed cookie value; browsers keep at most about
// 4096 bytes per cookie including its name and attributes.
const MaxCookieBytes = 3800

// version is the first byte of every sealed value, so that a future format
// can be told apart and old cookies refused with a clear error.
const version byte = 2

// aad binds sealed values to their purpose: a value sealed by the same key
// for something else does not open as a session.
var aad = []byte("tokenlab session cookie v2")

// hkdfInfo names the derived key's purpose, so the session key differs from
// any other key derived from the same secret.
const hkdfInfo = "tokenlab session cookie key v1"

// Errors returned by Open and FromRequest, checked with errors.Is. Each
// message says what to do; none reveals key material.
var (
	ErrNoSession = errors.New("no session: sign in with POST /token first")
	ErrMalformed = errors.New("session cookie is malformed (truncated or not base64url): sign in again")
	ErrForged    = errors.New("session cookie failed verification (altered, or sealed with another key): sign in again")
	ErrExpired   = errors.New("session reached its absolute lifetime: sign in again")
	ErrRevoked   = errors.New("session was ended (logout or operator): sign in again")
	ErrTooLarge  = errors.New("session too large for a cookie")
)

// Session is what a cookie remembers about one sign-in.
type Session struct {
	// ID is random (crypto/rand.Text) and names the session in the
	// revocation list, the hub and the operator's list.
	ID       string
	Identity string
	// Credential stands for the password the session signed in with
	// (users.User.Credential), so that renewals can tell it was changed;
	// empty in open demo mode.
	Credential string
	Grants     token.Grants
	// TTL is the lifetime in seconds of every token minted for the session.
	TTL     int64
	Created time.Time
	// Expires is the absolute end: no renewal extends it.
	Expires time.Time
}

// wire is the compact JSON form sealed into the cookie.
type wire struct {
	ID         string       `json:"i"`
	Identity   string       `json:"u"`
	Credential string       `json:"p"`
	Grants     token.Grants `json:"g"` // through its MarshalJSON, the token layout
	TTL        int64        `json:"t"`
	Created    int64        `json:"c"`
	Expires    int64        `json:"e"`
}

// DeriveKey derives the sealing key from a secret (the API key secret, or a
// dedicated session key) with HKDF-SHA256, so the cookie key is never the
// secret itself.
func DeriveKey(secret []byte) ([]byte, error) {
	if len(secret) == 0 {
		return nil, errors.New("session: cannot derive a key from an empty secret")
	}
	return derive(secret, hkdfInfo), nil
}

// derive is the one HKDF-SHA256 step every key of the server takes.
func derive(secret []byte, info string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, info, KeySize)
	if err != nil {
		panic("session: hkdf refused a key: " + err.Error()) // only a 255×32-byte output fails
	}
	return k
}

// Options configure a Manager.
type Options struct {
	// Key is the KeySize-byte sealing key (see DeriveKey).
	Key []byte
	// Lifetime is a session's absolute lifetime from sign-in.
	Lifetime time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Revocations is the list checked on every Open; a fresh in-memory list
	// when nil.
	Revocations *Revocations
	// Remember is how many opened cookies to remember (opened.go), so that
	// a session's next renewal does not decrypt its cookie again; zero
	// remembers none.
	Remember int
}

// Manager starts, seals, opens and revokes sessions.
type Manager struct {
	key      []byte
	aead     cipher.AEAD
	lifetime time.Duration
	now      func() time.Time
	revoked  *Revocations
	opened   *opened
}

// NewManager checks the options and returns a Manager.
func NewManager(o Options) (*Manager, error) {
	if len(o.Key) != KeySize {
		return nil, fmt.Errorf("session: the key must be %d bytes, got %d", KeySize, len(o.Key))
	}
	if o.Lifetime <= 0 {
		return nil, fmt.Errorf("session: the lifetime must be positive, got %v", o.Lifetime)
	}
	block, err := aes.NewCipher(o.Key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	m := &Manager{key: o.Key, aead: aead, lifetime: o.Lifetime, now: o.Now, revoked: o.Revocations, opened: newOpened(o.Remember)}
	if m.now == nil {
		m.now = time.Now
	}
	if m.revoked == nil {
		m.revoked = NewRevocations(m.now)
	}
	return m, nil
}

// Subkey derives a KeySize-byte key for another purpose, named by info,
// from the sealing key: whatever secret the sessions are sealed with, the
// keys the server signs other things with follow it, and none of them
// reveals another.
func (m *Manager) Subkey(info string) []byte { return derive(m.key, info) }

// Lifetime is the absolute session lifetime.
func (m *Manager) Lifetime() time.Duration { return m.lifetime }

// Revocations is the list the manager checks.
func (m *Manager) Revocations() *Revocations { return m.revoked }

// Start begins a session without a credential (open demo mode) and
// returns it with its sealed cookie value.
func (m *Manager) Start(identity string, grants token.Grants, ttl int64) (Session, string, error) {
	return m.StartWith(identity, "", grants, ttl)
}

// StartWith begins a session for a successful sign-in, remembering the
// credential it signed in with, and returns it with its sealed cookie value.
func (m *Manager) StartWith(identity, credential string, grants token.Grants, ttl int64) (Session, string, error) {
	if m.revoked.Full() {
		return Session{}, "", ErrRevocationsFull
	}
	now := m.now()
	s := Session{
		ID:         rand.Text(),
		Identity:   identity,
		Credential: credential,
		Grants:     grants,
		TTL:        ttl,
		Created:    now.Truncate(time.Second),
		Expires:    now.Add(m.lifetime).Truncate(time.Second),
	}
	value, err := m.Seal(s)
	if err != nil {
		return Session{}, "", err
	}
	return s, value, nil
}

// Seal encrypts and authenticates s into a cookie value:
// base64url(version || nonce || AES-GCM(payload)).
func (m *Manager) Seal(s Session) (string, error) {
	payload, err := json.Marshal(wire{
		ID: s.ID, Identity: s.Identity, Credential: s.Credential, Grants: s.Grants, TTL: s.TTL,
		Created: s.Created.Unix(), Expires: s.Expires.Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("session: encoding: %w", err)
	}
	ns := m.aead.NonceSize()
	buf := make([]byte, 1+ns, 1+ns+len(payload)+m.aead.Overhead())
	buf[0] = version
	rand.Read(buf[1 : 1+ns]) // never fails (crypto/rand)
	sealed := m.aead.Seal(buf, buf[1:1+ns], payload, aad)
	value := base64.RawURLEncoding.EncodeToString(sealed)
	if len(value) > MaxCookieBytes {
		return "", fmt.Errorf("%w: the sealed session is %d bytes, the limit is %d; request fewer or smaller grants",
			ErrTooLarge, len(value), MaxCookieBytes)
	}
	return value, nil
}

// Open verifies and decrypts a cookie value, then refuses it when the
// session has expired or was revoked. Sessions opened from the same value
// may share their grants' pointers: treat a Session as read-only.
func (m *Manager) Open(value string) (Session, error) {
	if value == "" {
		return Session{}, ErrNoSession
	}
	if len(value) > MaxCookieBytes {
		return Session{}, ErrMalformed
	}
	s, remembered := m.opened.get(value)
	if !remembered {
		var err error
		if s, err = m.unseal(value); err != nil {
			return Session{}, err
		}
	}
	switch {
	case !m.now().Before(s.Expires):
		m.opened.forget(value)
		return Session{}, ErrExpired
	case m.revoked.Has(s.ID):
		m.opened.forget(value)
		return Session{}, ErrRevoked
	}
	if !remembered {
		m.opened.put(value, s)
	}
	return s, nil
}

// unseal decrypts and decodes a cookie value, without the checks of time
// and revocation.
func (m *Manager) unseal(value string) (Session, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	ns := m.aead.NonceSize()
	if err != nil || len(raw) < 1+ns+m.aead.Overhead() {
		return Session{}, ErrMalformed
	}
	if raw[0] != version {
		return Session{}, ErrMalformed
	}
	// Decrypted in place: raw is this call's own copy.
	payload, err := m.aead.Open(raw[1+ns:1+ns], raw[1:1+ns], raw[1+ns:], aad)
	if err != nil {
		return Session{}, ErrForged
	}
	var w wire
	if err := json.Unmarshal(payload, &w); err != nil || w.ID == "" {
		return Session{}, ErrMalformed
	}
	return Session{
		ID: w.ID, Identity: w.Identity, Credential: w.Credential, Grants: w.Grants, TTL: w.TTL,
		Created: time.Unix(w.Created, 0), Expires: time.Unix(w.Expires, 0),
	}, nil
}

// FromRequest opens the session cookie of r.
func (m *Manager) FromRequest(r *http.Request) (Session, error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return Session{}, ErrNoSession
	}
	return m.Open(c.Value)
}

// Revoke ends s: every later Open of its cookie fails with ErrRevoked.
func (m *Manager) Revoke(s Session) error { return m.revoked.Add(s.ID, s.Expires) }

// RevokeID ends the session named id when only its id is known (an
// operator's revoke of a session the hub no longer tracks); it stays on the
// list for a whole lifetime, the longest the cookie could still be valid.
func (m *Manager) RevokeID(id string) error { return m.revoked.Add(id, m.now().Add(m.lifetime)) }

// SetCookie sends the session cookie: HttpOnly so page scripts cannot read
// it, SameSite=Strict so other sites cannot ride on it, Secure when the
// request came over TLS, and expiring with the session.
//
// A request from a page on another site, over TLS, gets the cookie for
// that site instead (see CrossSite).
func SetCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time) {
	c := cookie(r)
	c.Value, c.Expires = value, expires.UTC()
	http.SetCookie(w, c)
}

// ClearCookie tells the browser to drop the session cookie (with the
// attributes it was set with: a partitioned cookie is cleared only in its
// partition).
func ClearCookie(w http.ResponseWriter, r *http.Request) {
	c := cookie(r)
	c.MaxAge = -1
	http.SetCookie(w, c)
}

func cookie(r *http.Request) *http.Cookie {
	c := &http.Cookie{Name: CookieName, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
	if CrossSite(r) {
		c.SameSite, c.Partitioned = http.SameSiteNoneMode, true
	}
	return c
}

// CrossSite tells whether r is a browser's request from a page on another
// site (Sec-Fetch-Site: cross-site), over TLS. Such a request reaches a
// handler that sets the cookie only when CrossOriginProtection let it
// through, that is, from an origin in TOKENLAB_ALLOWED_ORIGINS. Its cookie
// is SameSite=None, so that the browser sends it back from that page, and
// Partitioned (CHIPS): the browser keeps it for that top-level site only,
// so a page on any other site never sends it, and browsers that block
// third-party cookies still keep it. Both need Secure, hence TLS.
func CrossSite(r *http.Request) bool {
	return r.TLS != nil && r.Header.Get("Sec-Fetch-Site") == "cross-site"
}
