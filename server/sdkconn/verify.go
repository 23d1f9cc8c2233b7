package sdkconn

import (
	"errors"
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Products a twilsock connection may serve, named by the grant they need.
const (
	ProductSync          = "sync"          // grant data_sync
	ProductConversations = "conversations" // grant chat
	ProductVoice         = "voice"         // grant voice, on /signal
)

// Refusal is why a token is not accepted, in Twilio's terms: the reply
// status and the public error code the SDK sees.
type Refusal struct {
	Status    int    // 401 or 403
	ErrorCode int    // Twilio's 2010x code
	Reason    string // tokenlab's description, without the token
	// Identity is the token's, when its signature holds ("" otherwise:
	// anyone can write any identity into a token they sign themselves).
	Identity string
}

func newRefusal(status, code int, reason string) *Refusal {
	return &Refusal{Status: status, ErrorCode: code, Reason: reason}
}

func withIdentity(r *Refusal, identity string) *Refusal {
	r.Identity = identity
	return r
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s (Twilio error %d)", r.Reason, r.ErrorCode) }

// Accepted is what a verified token gives the connection.
type Accepted struct {
	Identity string
	Products []string
	Grants   token.Grants
	// TTL is the token's lifetime from its claims (0 when they do not
	// say); the warning's lead scales with it.
	TTL time.Duration
	Exp time.Time
}

// verify checks raw as Twilio's service would before it lets a twilsock
// client in: checkToken, then a grant for a twilsock product (data_sync for
// Sync, chat for Conversations).
func verify(m *mint.Minter, raw string, now time.Time) (Accepted, *Refusal) {
	a, refusal := checkToken(m, raw, now)
	if refusal != nil {
		return Accepted{}, refusal
	}
	if a.Grants.Sync != nil {
		a.Products = append(a.Products, ProductSync)
	}
	if a.Grants.Chat != nil {
		a.Products = append(a.Products, ProductConversations)
	}
	if len(a.Products) == 0 {
		return Accepted{}, withIdentity(newRefusal(twilsock.StatusForbidden, twilsock.ErrorTokenGrantsInvalid, "the token has neither a data_sync grant (Sync) nor a chat grant (Conversations)"), a.Identity)
	}
	return a, nil
}

// checkToken checks what every Twilio service checks of a token, whatever
// the product: tokenlab's own signature (HS256 with its API key secret,
// issued by its API key), the cty, the account in sub, exp and nbf, and an
// identity. Each product then checks its grant.
func checkToken(m *mint.Minter, raw string, now time.Time) (Accepted, *Refusal) {
	t, err := m.Verify(raw)
	switch {
	case errors.Is(err, mint.ErrBadSignature), errors.Is(err, mint.ErrWrongAlg):
		return Accepted{}, newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenSignatureInvalid, "the token's signature does not match this server's API key secret")
	case errors.Is(err, mint.ErrWrongIssuer):
		return Accepted{}, newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenIssuerInvalid, "the token's iss is not this server's API key")
	case err != nil:
		return Accepted{}, newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenInvalid, "the token is not a well-formed access token")
	}
	c := t.Claims
	var r *Refusal
	switch {
	case t.Header.Cty != token.ContentTypeFPA:
		r = newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenInvalid, fmt.Sprintf("the token's cty is %q, want %q", t.Header.Cty, token.ContentTypeFPA))
	case c.Sub != m.AccountSID():
		r = newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenIssuerInvalid, "the token's sub is not this server's account SID")
	case c.Exp == 0 || c.Expired(now):
		r = newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenExpired, "the token has expired: fetch a new one")
	case c.NotYetValid(now):
		r = newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenNotYetValid, "the token is not valid yet (nbf is in the future)")
	case c.Identity() == "":
		r = newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenGrantsInvalid, "the token has no identity")
	}
	// Signed, but not an identity tokenlab mints: one with a control
	// character could rewrite the operator's terminal (tokenlab sessions),
	// an invisible one pass for another. It shows nowhere.
	idErr := token.CheckIdentity("the token's identity", c.Identity())
	if r == nil && idErr != nil {
		r = newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenInvalid, idErr.Error())
	}
	if r != nil {
		if idErr == nil {
			// The signature holds, so the identity is the one tokenlab
			// minted the token for: the refusal can be shown to it.
			r.Identity = c.Identity()
		}
		return Accepted{}, r
	}
	return Accepted{Identity: c.Identity(), Grants: c.Grants, TTL: c.TTL(), Exp: c.ExpiresAt()}, nil
}
