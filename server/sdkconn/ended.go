package sdkconn

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/server/twilsock"
)

// MaxEndedTokens bounds how many tokens ended by the lab an endpoint
// remembers: as many as it has connections. Past it, the one expiring
// first is forgotten.
const MaxEndedTokens = DefaultMaxConns

// tokenKey names a token in endedTokens: its SHA-256, so that no token is
// kept.
type tokenKey [sha256.Size]byte

func keyOf(raw string) tokenKey { return sha256.Sum256([]byte(raw)) }

// currentToken is the token a connection's lifecycle runs on: its key,
// its exp in unix milliseconds (0 before the first accepted token) and
// when it was issued, in unix seconds (0 when its claims do not say).
type currentToken struct {
	key    tokenKey
	exp    int64
	issued int64
}

func current(key tokenKey, a Accepted) currentToken {
	t := currentToken{key: key, exp: a.Exp.UnixMilli()}
	if a.TTL > 0 {
		t.issued = a.Exp.Add(-a.TTL).Unix()
	}
	return t
}

// endedTokens remembers the tokens the lab's expire now or an operator's
// revoke ended, each until its own exp. The fault treats the token as
// expired; a client that comes back with it (the SDK reconnecting after a
// drop or a restart of its page, an app re-sending a cached token) is
// refused as Twilio refuses an expired token, instead of undoing the
// fault. It is safe for concurrent use.
//
// A token is named by its bytes, and a token minted for the same identity,
// grants and ttl in the same second is the same bytes (iat, exp and the
// jti count seconds): so only tokens issued before the fault's second are
// remembered, and a token the app fetches after the fault is never taken
// for the ended one.
type endedTokens struct {
	mu  sync.Mutex
	exp map[tokenKey]int64 // unix ms
}

// add remembers t until its exp.
func (e *endedTokens) add(t currentToken, now time.Time) {
	if t.exp <= now.UnixMilli() || t.issued == 0 || t.issued >= now.Unix() {
		return // expired anyway, or not to be told from a new token
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exp == nil {
		e.exp = make(map[tokenKey]int64)
	}
	if _, known := e.exp[t.key]; !known && len(e.exp) >= MaxEndedTokens {
		e.pruneLocked(now)
	}
	e.exp[t.key] = t.exp
}

// pruneLocked forgets the tokens past their exp, or else the one expiring
// first. Callers hold e.mu.
func (e *endedTokens) pruneLocked(now time.Time) {
	var first tokenKey
	firstExp := int64(-1)
	for k, exp := range e.exp {
		switch {
		case exp <= now.UnixMilli():
			delete(e.exp, k)
		case firstExp < 0 || exp < firstExp:
			first, firstExp = k, exp
		}
	}
	if len(e.exp) >= MaxEndedTokens {
		delete(e.exp, first)
	}
}

// refusal is the answer to a token the lab ended, nil for any other.
// identity is the token's (its signature held).
func (e *endedTokens) refusal(k tokenKey, identity string, now time.Time) *Refusal {
	e.mu.Lock()
	exp, ended := e.exp[k]
	e.mu.Unlock()
	if !ended || exp <= now.UnixMilli() {
		return nil
	}
	return withIdentity(newRefusal(twilsock.StatusUnauthorized, twilsock.ErrorTokenExpired,
		"the token was ended by tokenlab's lab (expire now, or an operator's revoke): fetch a new one"), identity)
}
