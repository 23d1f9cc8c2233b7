// Package token models Twilio Access Tokens: the header, the claims and every
// grant Twilio defines, with their exact JSON shapes. It decodes a token
// without verifying it, validates SIDs and identities, and does TTL
// arithmetic against a clock the caller passes in.
//
// It imports only the standard library so that the browser build can use it.
package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
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
// accepts surrounding white space and a "Bearer " prefix, as pasted.
func Decode(raw string) (*Token, error) {
	raw = strings.TrimSpace(raw)
	raw = strings.TrimSpace(strings.TrimPrefix(raw, "Bearer "))
	if raw == "" {
		return nil, &DecodeError{ErrNotJWT, "the token is empty"}
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, &DecodeError{ErrNotJWT, fmt.Sprintf("a JWT has 3 dot-separated segments, this has %d", len(parts))}
	}
	t := &Token{Raw: raw}
	var err error
	if t.HeaderJSON, err = decodeSegment(parts[0]); err != nil {
		return nil, &DecodeError{ErrBadHeader, "header segment: " + err.Error()}
	}
	if err := decodeObject(t.HeaderJSON, &t.Header); err != nil {
		return nil, &DecodeError{ErrBadHeader, err.Error()}
	}
	if t.PayloadJSON, err = decodeSegment(parts[1]); err != nil {
		return nil, &DecodeError{ErrBadPayload, "payload segment: " + err.Error()}
	}
	if err := decodeObject(t.PayloadJSON, &t.Claims); err != nil {
		return nil, &DecodeError{ErrBadPayload, err.Error()}
	}
	if parts[2] == "" {
		return nil, &DecodeError{ErrBadSig, "the signature segment is empty"}
	}
	if t.Signature, err = decodeSegment(parts[2]); err != nil {
		return nil, &DecodeError{ErrBadSig, "signature segment: " + err.Error()}
	}
	return t, nil
}

// decodeSegment reads base64url without padding, tolerating padding since
// some encoders add it.
func decodeSegment(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		var pos base64.CorruptInputError
		if errors.As(err, &pos) {
			return nil, fmt.Errorf("not base64url (bad character at offset %d)", int64(pos))
		}
		return nil, errors.New("not base64url")
	}
	return b, nil
}

func decodeObject(data []byte, v any) error {
	trimmed := strings.TrimSpace(string(data))
	if !strings.HasPrefix(trimmed, "{") {
		return errors.New("not a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Errorf("%q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
		}
		return errors.New("not valid JSON")
	}
	return nil
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
	if i := strings.LastIndexByte(c.JTI, '-'); i >= 0 {
		var sec int64
		if _, err := fmt.Sscan(c.JTI[i+1:], &sec); err == nil && sec > 0 {
			return time.Unix(sec, 0)
		}
	}
	return time.Time{}
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
