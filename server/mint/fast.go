package mint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"strconv"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
	"github.com/tokenlab/tokenlab/shared/token"
)

// The fast path signs the tokens of the common grants without golang-jwt's
// per-token work, which profiling showed to be 15–20 times the HMAC
// itself: marshalling the header map through reflection, a new HMAC (two
// SHA-256 states) per token, base64 into fresh strings. Here the header
// segment is encoded once per Minter, the claims are appended by hand,
// and each token reuses a pooled buffer and HMAC. Its output is
// byte-for-byte golang-jwt's (fast_test.go proves it, signature included,
// across grant combinations and awkward strings); claims it cannot write
// by hand (voice params, player) go through golang-jwt.

// signer holds what never changes between the tokens of one Minter.
type signer struct {
	header string // the header segment, base64url, as golang-jwt encodes it
	key    []byte
	pool   sync.Pool // of *signState
}

// signState is one token's scratch space, reused through the pool.
type signState struct {
	mac  hash.Hash
	json []byte   // the claims JSON
	out  []byte   // header.payload.signature
	sum  [32]byte // the HMAC, kept here so that Sum does not allocate
}

func newSigner(key []byte, header map[string]any) (*signer, error) {
	h, err := json.Marshal(header) // what golang-jwt's SigningString does
	if err != nil {
		return nil, err
	}
	s := &signer{header: base64.RawURLEncoding.EncodeToString(h), key: key}
	s.pool.New = func() any {
		return &signState{mac: hmac.New(sha256.New, s.key), json: make([]byte, 0, 512), out: make([]byte, 0, 1024)}
	}
	return s, nil
}

// sign returns the signed token for c and true, or false when c holds a
// grant the fast path does not write (the caller then uses golang-jwt).
func (s *signer) sign(c *token.Claims) (string, bool) {
	if !fastGrants(&c.Grants) {
		return "", false
	}
	st := s.pool.Get().(*signState)
	defer s.pool.Put(st)
	st.json = appendClaims(st.json[:0], c)

	enc := base64.RawURLEncoding
	out := append(st.out[:0], s.header...)
	out = append(out, '.')
	out = enc.AppendEncode(out, st.json)
	st.mac.Reset()
	st.mac.Write(out)
	out = append(out, '.')
	out = enc.AppendEncode(out, st.mac.Sum(st.sum[:0]))
	st.out = out
	return string(out), true
}

// jwtHeader is the header golang-jwt is given for a region ("" for none).
func jwtHeader(region string) map[string]any {
	t := jwt.New(jwt.SigningMethodHS256)
	t.Header["typ"] = token.TypeJWT
	t.Header["cty"] = token.ContentTypeFPA
	if region != "" {
		t.Header["twr"] = region
	}
	return t.Header
}

// fastGrants reports whether the fast path takes g: everything but voice
// parameters, player and unknown grants, free-form values left to
// golang-jwt.
func fastGrants(g *token.Grants) bool {
	if len(g.Player) > 0 || len(g.Unknown) > 0 {
		return false
	}
	if v := g.Voice; v != nil && v.Outgoing != nil && v.Outgoing.ApplicationSID != "" && len(v.Outgoing.Params) > 0 {
		return false
	}
	return true
}

// appendClaims appends c as encoding/json marshals token.Claims: fields in
// declaration order, omitempty honoured.
func appendClaims(b []byte, c *token.Claims) []byte {
	b = append(b, `{"jti":`...)
	b = jsonlite.AppendString(b, c.JTI)
	b = append(b, `,"grants":`...)
	// Only params and player can fail to encode, and fastGrants admits
	// neither.
	b, _ = c.Grants.AppendJSON(b)
	b = append(b, `,"iss":`...)
	b = jsonlite.AppendString(b, c.Iss)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Exp, 10)
	if c.Nbf != 0 {
		b = append(b, `,"nbf":`...)
		b = strconv.AppendInt(b, c.Nbf, 10)
	}
	if c.Iat != 0 {
		b = append(b, `,"iat":`...)
		b = strconv.AppendInt(b, c.Iat, 10)
	}
	b = append(b, `,"sub":`...)
	b = jsonlite.AppendString(b, c.Sub)
	return append(b, '}')
}
