// Package mint signs Twilio Access Tokens (HS256 JWTs with the
// "twilio-fpa;v=1" content type) and verifies their signatures, using the
// token model of shared/token. The clock is injected so that tests control
// nbf, exp and the jti.
package mint

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenlab/tokenlab/shared/token"
)

// DefaultTTL is the lifetime of a token when the caller has no preference,
// as in every Twilio helper library.
const DefaultTTL = token.DefaultTTL * time.Second

// Credentials are the Twilio account and API key that sign tokens.
type Credentials struct {
	AccountSID   string // AC…, the token's sub
	APIKeySID    string // SK…, the token's iss and the jti prefix
	APIKeySecret Secret // the HMAC key; printed as [redacted]
	Region       string // optional, e.g. "us1"; sets the twr header
}

// Errors returned by Verify, checked with errors.Is.
var (
	ErrBadSignature = errors.New("signature does not match this server's API key secret")
	ErrWrongAlg     = errors.New("token is not signed with HS256")
	ErrWrongIssuer  = errors.New("token was issued by another API key")
)

// regionPattern accepts Twilio region codes such as us1, ie1, au1, de1.
var regionPattern = regexp.MustCompile(`^[a-z]{2,8}[0-9]{1,2}$`)

// ValidRegion reports whether r looks like a Twilio region code ("us1").
func ValidRegion(r string) bool { return regionPattern.MatchString(r) }

// Validate checks the credentials; errors name the field at fault and never
// include the secret.
func (c Credentials) Validate() error {
	if err := token.CheckSID("account SID", token.PrefixAccount, c.AccountSID); err != nil {
		return err
	}
	if err := token.CheckSID("API key SID", token.PrefixAPIKey, c.APIKeySID); err != nil {
		return err
	}
	if c.APIKeySecret == "" {
		return &token.FieldError{Field: "API key secret", Problem: "must not be empty"}
	}
	if c.Region != "" && !ValidRegion(c.Region) {
		return &token.FieldError{Field: "region", Problem: fmt.Sprintf("must be a Twilio region code such as us1 or ie1, got %q", c.Region)}
	}
	return nil
}

// Minter signs tokens for one set of credentials. It is safe for concurrent use.
type Minter struct {
	creds  Credentials
	key    []byte
	now    func() time.Time
	header map[string]any // golang-jwt's header; never modified after New
	fast   *signer
}

// New returns a Minter for c. A nil now means time.Now.
func New(c Credentials, now func() time.Time) (*Minter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	key := []byte(c.APIKeySecret.Reveal())
	header := jwtHeader(c.Region)
	fast, err := newSigner(key, header)
	if err != nil {
		return nil, fmt.Errorf("mint: encoding the header: %w", err)
	}
	return &Minter{creds: c, key: key, now: now, header: header, fast: fast}, nil
}

// AccountSID returns the account the Minter signs for.
func (m *Minter) AccountSID() string { return m.creds.AccountSID }

// APIKeySID returns the API key the Minter signs with.
func (m *Minter) APIKeySID() string { return m.creds.APIKeySID }

// Region returns the configured region, or "".
func (m *Minter) Region() string { return m.creds.Region }

// Minted is a signed token and the claims it carries.
type Minted struct {
	Token  string
	Claims token.Claims
}

// Mint signs a token for identity carrying grants g, valid from now for ttl.
// The ttl must be whole seconds within token.MinTTL..token.MaxTTL (pass
// DefaultTTL when the caller has no preference). g.Identity is replaced by
// identity; g must hold no unknown grant keys.
func (m *Minter) Mint(identity string, g token.Grants, ttl time.Duration) (Minted, error) {
	return m.MintAt(m.now(), identity, g, ttl)
}

// MintAt is Mint as a server whose clock reads now would mint: nbf, exp
// and the jti's time come from now. The lab uses it to simulate a server
// with a skewed clock.
func (m *Minter) MintAt(at time.Time, identity string, g token.Grants, ttl time.Duration) (Minted, error) {
	if ttl%time.Second != 0 {
		return Minted{}, &token.FieldError{Field: "ttl", Problem: fmt.Sprintf("must be a whole number of seconds, got %v", ttl)}
	}
	if err := token.CheckTTL("ttl", int64(ttl/time.Second)); err != nil {
		return Minted{}, err
	}
	if err := token.CheckIdentity("identity", identity); err != nil {
		return Minted{}, err
	}
	if len(g.Unknown) > 0 {
		keys := g.Keys() // known grants first, then unknown ones sorted
		key := keys[len(keys)-len(g.Unknown)]
		return Minted{}, &token.FieldError{Field: "grants." + key, Problem: fmt.Sprintf("is not a Twilio grant (known: %v)", token.GrantKeys)}
	}
	g.Identity = "" // checked above; Validate would check it again
	if err := g.Validate(); err != nil {
		return Minted{}, err
	}
	g.Identity = identity
	now := at.Unix()
	c := token.Claims{
		JTI:    jti(m.creds.APIKeySID, now),
		Grants: g,
		Iss:    m.creds.APIKeySID,
		Sub:    m.creds.AccountSID,
		Nbf:    now,
		Exp:    now + int64(ttl/time.Second),
	}
	signed, ok := m.fast.sign(&c)
	if !ok {
		var err error
		if signed, err = m.signJWT(c); err != nil {
			return Minted{}, err
		}
	}
	return Minted{Token: signed, Claims: c}, nil
}

// jti is Twilio's token id, "{API key SID}-{unix seconds}", built with a
// single allocation.
func jti(keySID string, now int64) string {
	var buf [64]byte
	b := append(buf[:0], keySID...)
	b = append(b, '-')
	return string(strconv.AppendInt(b, now, 10))
}

// signJWT signs c with golang-jwt: the reference every token must match,
// and the path for claims the fast path does not write.
func (m *Minter) signJWT(c token.Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{c})
	maps.Copy(t.Header, m.header)
	signed, err := t.SignedString(m.key)
	if err != nil {
		return "", fmt.Errorf("mint: signing: %w", err)
	}
	return signed, nil
}

// Verify decodes raw and checks that it is an HS256 token signed with this
// Minter's secret and issued by its API key. It checks the signature only:
// expiry is for the caller to judge (token.Claims.Expired), so that an
// expired token can still be shown as genuine. Errors wrap ErrWrongAlg,
// ErrBadSignature, ErrWrongIssuer or a token.DecodeError.
func (m *Minter) Verify(raw string) (*token.Token, error) {
	t, err := token.Decode(raw)
	if err != nil {
		return nil, err
	}
	if t.Header.Alg != token.AlgHS256 {
		return t, fmt.Errorf("%w (alg is %q)", ErrWrongAlg, t.Header.Alg)
	}
	p := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation())
	_, err = p.Parse(t.Raw, func(*jwt.Token) (any, error) { return m.key, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return t, ErrBadSignature
	case err != nil:
		return t, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if t.Claims.Iss != m.creds.APIKeySID {
		return t, fmt.Errorf("%w (iss is %q, this server signs as %s)", ErrWrongIssuer, t.Claims.Iss, m.creds.APIKeySID)
	}
	return t, nil
}

// claims adapts token.Claims to jwt.Claims so golang-jwt can sign it. The
// embedded struct's fields are promoted, so the JSON is token.Claims' own.
type claims struct{ token.Claims }

func (c claims) GetExpirationTime() (*jwt.NumericDate, error) { return numeric(c.Exp), nil }
func (c claims) GetNotBefore() (*jwt.NumericDate, error)      { return numeric(c.Nbf), nil }
func (c claims) GetIssuedAt() (*jwt.NumericDate, error)       { return numeric(c.Iat), nil }
func (c claims) GetIssuer() (string, error)                   { return c.Iss, nil }
func (c claims) GetSubject() (string, error)                  { return c.Sub, nil }
func (c claims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

func numeric(sec int64) *jwt.NumericDate {
	if sec == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(sec, 0))
}
