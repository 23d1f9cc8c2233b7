// Package token models Twilio Access Tokens: the header, the claims and every
// grant Twilio defines, with their exact JSON shapes. It decodes a token
// without verifying it, validates SIDs and identities, and does TTL
// arithmetic against a clock the caller passes in.
//
// It imports only the standard library so that the browser build can use it.
package token

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
)

// Header values every Twilio Access Token carries.
const (
	TypeJWT        = "JWT"
	AlgHS256       = "HS256"
	ContentTypeFPA = "twilio-fpa;v=1"
)

// TTL limits, in seconds.
const (
	DefaultTTL = 3600
	MinTTL     = 1
	MaxTTL     = 86400 // Twilio refuses longer tokens (20157).
)

// Header is a token's JOSE header.
type Header struct {
	Typ string `json:"typ,omitempty"`
	Alg string `json:"alg,omitempty"`
	Cty string `json:"cty,omitempty"`
	// Twr is the Twilio region ("us1", "ie1"…), present only when one is set.
	Twr string `json:"twr,omitempty"`
}

// Claims is a token's payload.
type Claims struct {
	JTI    string `json:"jti"`
	Grants Grants `json:"grants"`
	Iss    string `json:"iss"`
	Exp    int64  `json:"exp"`
	Nbf    int64  `json:"nbf,omitempty"`
	Iat    int64  `json:"iat,omitempty"`
	Sub    string `json:"sub"`
}

// Token is a decoded, unverified token.
type Token struct {
	Raw       string
	Header    Header
	Claims    Claims
	Signature []byte
	// HeaderJSON and PayloadJSON are the decoded segments as they were
	// signed, for display.
	HeaderJSON  []byte
	PayloadJSON []byte
}

// Decoding errors, checked with errors.Is. A *DecodeError wraps one of them
// and says which part was wrong and why.
var (
	ErrNotJWT     = errors.New("not a JWT")
	ErrBadHeader  = errors.New("malformed header")
	ErrBadPayload = errors.New("malformed payload")
	ErrBadSig     = errors.New("malformed signature")
)

// DecodeError says which part of a token could not be decoded.
type DecodeError struct {
	Kind   error  // one of ErrNotJWT, ErrBadHeader, ErrBadPayload, ErrBadSig
	Detail string // what was wrong, for a person
}

func (e *DecodeError) Error() string { return e.Kind.Error() + ": " + e.Detail }
func (e *DecodeError) Unwrap() error { return e.Kind }

// Decode splits and decodes a token without checking its signature. It
// accepts surrounding white space and a "Bearer " prefix, as pasted. Claim
// and header keys are read exactly as spelled ("EXP" is not "exp"), as
// Twilio reads them. Errors are *DecodeError values naming the part at
// fault.
func Decode(raw string) (*Token, error) {
	header, payload, sig, err := DecodeSegments(raw)
	if err != nil && !errors.Is(err, ErrBadSig) {
		return nil, err
	}
	// A header or payload problem is reported before a signature problem:
	// it is the earlier, and usually the real, mistake.
	t := &Token{Raw: trimToken(raw), HeaderJSON: header, PayloadJSON: payload, Signature: sig}
	if err := decodeObject(header, &headerFields, &t.Header); err != nil {
		return nil, &DecodeError{ErrBadHeader, err.Error()}
	}
	if err := decodeObject(payload, &claimsFields, &t.Claims); err != nil {
		return nil, &DecodeError{ErrBadPayload, err.Error()}
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// DecodeSegments splits a token into its three segments and decodes their
// base64url, without parsing any JSON. Errors are *DecodeError values. When
// only the signature segment is at fault (ErrBadSig), the decoded header and
// payload are returned with the error, so that a linter can still read them.
func DecodeSegments(raw string) (header, payload, signature []byte, err error) {
	raw = trimToken(raw)
	if raw == "" {
		return nil, nil, nil, &DecodeError{ErrNotJWT, "the token is empty"}
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, nil, &DecodeError{ErrNotJWT, segmentCountDetail(len(parts))}
	}
	if header, err = decodeSegment(parts[0]); err != nil {
		return nil, nil, nil, &DecodeError{ErrBadHeader, "header segment: " + err.Error()}
	}
	if payload, err = decodeSegment(parts[1]); err != nil {
		return nil, nil, nil, &DecodeError{ErrBadPayload, "payload segment: " + err.Error()}
	}
	if parts[2] == "" {
		return header, payload, nil, &DecodeError{ErrBadSig, "the signature segment is empty: the token is unsigned"}
	}
	if signature, err = decodeSegment(parts[2]); err != nil {
		return header, payload, nil, &DecodeError{ErrBadSig, "signature segment: " + err.Error()}
	}
	return header, payload, signature, nil
}

func segmentCountDetail(n int) string {
	switch n {
	case 1:
		return "a JWT has 3 dot-separated segments (header.payload.signature), this has no dot"
	case 5:
		return "a JWT has 3 dot-separated segments, this has 5 (an encrypted JWE?): Twilio tokens are signed, not encrypted"
	}
	return "a JWT has 3 dot-separated segments (header.payload.signature), this has " + strconv.Itoa(n)
}

// trimToken removes what pasting tends to add: white space and a
// "Bearer " prefix in any case.
func trimToken(raw string) string {
	raw = strings.TrimSpace(raw)
	const bearer = "bearer"
	if len(raw) >= len(bearer) && strings.EqualFold(raw[:len(bearer)], bearer) {
		if rest := raw[len(bearer):]; rest == "" || rest[0] == ' ' || rest[0] == '\t' {
			raw = strings.TrimSpace(rest)
		}
	}
	return raw
}

// decodeSegment reads base64url without padding, tolerating padding since
// some encoders add it.
func decodeSegment(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("the segment is empty")
	}
	if i := strings.IndexAny(s, "+/"); i >= 0 {
		return nil, errors.New("not base64url: " + strconv.QuoteRune(rune(s[i])) + " at offset " + strconv.Itoa(i) + " is standard base64 (JWTs use - and _ instead of + and /)")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		var pos base64.CorruptInputError
		if errors.As(err, &pos) {
			return nil, errors.New("not base64url (bad character at offset " + strconv.FormatInt(int64(pos), 10) + ")")
		}
		return nil, errors.New("not base64url")
	}
	return b, nil
}

// decodeObject decodes one JSON object into *t through b, with errors
// that say what is wrong and where.
func decodeObject[T any](data []byte, b *jsonlite.Binding[T], t *T) error {
	value, err := jsonlite.Parse(data)
	if err != nil {
		return errors.New("not valid JSON")
	}
	if value.Kind != jsonlite.Object {
		return errors.New("not a JSON object")
	}
	return readInto(b, t, value, lenient, "an object")
}

// IssuedAt is the best known signing time: nbf, else iat, else the unix
// time in the jti.
func (c Claims) IssuedAt() time.Time {
	switch {
	case c.Nbf != 0:
		return time.Unix(c.Nbf, 0)
	case c.Iat != 0:
		return time.Unix(c.Iat, 0)
	}
	if sec, ok := jtiTime(c.JTI); ok {
		return time.Unix(sec, 0)
	}
	return time.Time{}
}

// JTITime returns the unix time a Twilio jti ("{API key SID}-{unix
// seconds}") carries, and false when jti has no such suffix.
func (c Claims) JTITime() (int64, bool) { return jtiTime(c.JTI) }

func jtiTime(jti string) (int64, bool) {
	i := strings.LastIndexByte(jti, '-')
	if i < 0 {
		return 0, false
	}
	digits := jti[i+1:]
	for j := 0; j < len(digits); j++ {
		if digits[j] < '0' || digits[j] > '9' {
			return 0, false // strconv would accept a sign; a jti never has one
		}
	}
	sec, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || sec <= 0 {
		return 0, false
	}
	return sec, true
}

// ExpiresAt is the exp claim as a time.
func (c Claims) ExpiresAt() time.Time { return time.Unix(c.Exp, 0) }

// TTL is the token's whole lifetime (exp − issued-at), or 0 when the
// issue time is unknown.
func (c Claims) TTL() time.Duration {
	iat := c.IssuedAt()
	if iat.IsZero() {
		return 0
	}
	return c.ExpiresAt().Sub(iat)
}

// Remaining is the time left before expiry at now; negative once expired.
func (c Claims) Remaining(now time.Time) time.Duration { return c.ExpiresAt().Sub(now) }

// Expired reports whether the token has expired at now.
func (c Claims) Expired(now time.Time) bool { return !now.Before(c.ExpiresAt()) }

// NotYetValid reports whether now is before nbf.
func (c Claims) NotYetValid(now time.Time) bool {
	return c.Nbf != 0 && now.Before(time.Unix(c.Nbf, 0))
}

// Identity is a shortcut for Grants.Identity.
func (c Claims) Identity() string { return c.Grants.Identity }
