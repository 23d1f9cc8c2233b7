package lint

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
)

// knownClaims are the claims Twilio's libraries write.
var knownClaims = []string{"jti", "iss", "sub", "exp", "nbf", "iat", "grants"}

// msThreshold is a unix time no token of this era reaches in seconds
// (year 5138) but every time in milliseconds passes: exp above it was
// written in milliseconds.
const msThreshold = 100_000_000_000

// times holds the time claims that parsed as unix seconds.
type times struct {
	exp, nbf, iat          int64
	hasExp, hasNbf, hasIat bool
	expMillis              bool // exp looked like milliseconds and was reported
}

func (c *checker) checkPayload(data []byte) {
	p := object(data)
	if p == nil {
		c.add(CodeNotAJWT, SeverityError, "payload", "the payload is %s, not a JSON object of claims: mint the token with a Twilio helper library", describe(data))
		return
	}
	iss := c.checkIssuer(p)
	c.checkSubject(p, iss)
	t := c.checkTimes(p)
	jtiTime := c.checkJTI(p, iss)
	grants := object(p["grants"])
	_, voice := grants["voice"]
	c.checkTTL(t, jtiTime, voice)
	c.checkGrants(p)
	c.checkOtherClaims(p)
}

// stringClaim reads a claim that must be a string, reporting it missing or
// of the wrong type with code and sev.
func (c *checker) stringClaim(p map[string]json.RawMessage, key string, code int, sev Severity, missing string) (string, bool) {
	raw, ok := p[key]
	if !ok {
		c.add(code, sev, key, "%s", missing)
		return "", false
	}
	var s string
	if kindOf(raw) != "a string" || json.Unmarshal(raw, &s) != nil {
		c.add(code, sev, key, "must be a string, not %s", kindOf(raw))
		return "", false
	}
	return s, true
}

// checkIssuer returns iss when it is a string.
func (c *checker) checkIssuer(p map[string]json.RawMessage) string {
	iss, ok := c.stringClaim(p, "iss", CodeBadIssuer, SeverityError,
		"the token has no iss: set it to the SID of the API key (SK…) whose secret signs the token")
	if !ok {
		return ""
	}
	switch {
	case token.ValidSID(token.PrefixAPIKey, iss):
	case token.ValidSID(token.PrefixAccount, iss):
		c.add(CodeBadIssuer, SeverityError, "iss", "is an Account SID: Access Tokens are issued by an API key; create one in the Twilio Console, put its SID (SK…) in iss and sign with its secret (the Account SID goes in sub)")
	default:
		c.add(CodeBadIssuer, SeverityError, "iss", "%s: it is the SID of the API key that signs the token", sidProblem(token.PrefixAPIKey, iss))
	}
	return iss
}

func (c *checker) checkSubject(p map[string]json.RawMessage, iss string) {
	sub, ok := c.stringClaim(p, "sub", CodeBadIssuer, SeverityError,
		"the token has no sub: set it to your Account SID (AC…)")
	if !ok {
		return
	}
	switch {
	case token.ValidSID(token.PrefixAccount, sub):
	case token.ValidSID(token.PrefixAPIKey, sub) && token.ValidSID(token.PrefixAccount, iss):
		c.add(CodeBadIssuer, SeverityError, "sub", "is an API key SID and iss an Account SID: they are swapped; sub is the Account SID (AC…), iss the API key SID (SK…)")
	case token.ValidSID(token.PrefixAPIKey, sub):
		c.add(CodeBadIssuer, SeverityError, "sub", "is an API key SID: sub is the Account SID (AC…) the API key belongs to")
	default:
		c.add(CodeBadIssuer, SeverityError, "sub", "%s: it is the SID of the account the token is for", sidProblem(token.PrefixAccount, sub))
	}
}

// sidProblem says why s is not a SID with prefix, in CheckSID's words.
func sidProblem(prefix, s string) string {
	var fe *token.FieldError
	if errors.As(token.CheckSID("", prefix, s), &fe) {
		return fe.Problem
	}
	return "must be " + prefix + " followed by 32 hex digits"
}

// checkJTI checks jti against the "{iss}-{unix seconds}" every Twilio
// library writes, and returns the time it carries (0 if none).
func (c *checker) checkJTI(p map[string]json.RawMessage, iss string) int64 {
	jti, ok := c.stringClaim(p, "jti", CodeInvalidToken, SeverityWarning,
		`the token has no jti: Twilio's libraries set it to "{API key SID}-{unix seconds}" so that each token is unique; set it the same way`)
	if !ok {
		return 0
	}
	sec, hasTime := token.Claims{JTI: jti}.JTITime()
	if !hasTime {
		c.add(CodeInvalidToken, SeverityWarning, "jti", `is %s: Twilio's libraries write "{API key SID}-{unix seconds}"%s; use that form so each token is unique and its signing time can be read`, quote(jti), c.example(iss))
		return 0
	}
	prefix := jti[:strings.LastIndexByte(jti, '-')]
	switch {
	case iss != "" && prefix != iss:
		c.add(CodeInvalidToken, SeverityWarning, "jti", `is %s and does not start with iss: Twilio's libraries write "{iss}-{unix seconds}"%s`, quote(jti), c.example(iss))
	case iss == "" && !token.ValidSID(token.PrefixAPIKey, prefix):
		c.add(CodeInvalidToken, SeverityWarning, "jti", `is %s: Twilio's libraries write "{API key SID}-{unix seconds}"`, quote(jti))
	}
	return sec
}

// example shows the jti a Twilio library would write now for iss.
func (c *checker) example(iss string) string {
	if iss == "" {
		return ""
	}
	return ", here " + quote(iss+"-"+strconv.FormatInt(c.now.Unix(), 10))
}

// checkTimes reads exp, nbf and iat and reports an expired or not yet
// valid token.
func (c *checker) checkTimes(p map[string]json.RawMessage) times {
	var t times
	now := c.now.Unix()
	if raw, ok := p["exp"]; !ok {
		c.add(CodeExpired, SeverityError, "exp", "the token has no exp: Twilio refuses tokens without an expiry; set exp to the signing time plus the ttl (at most 86400 s)")
	} else if n, problem := numeric(raw); problem != "" {
		c.add(CodeExpired, SeverityError, "exp", "%s: set exp to the signing time plus the ttl", problem)
	} else if n <= 0 {
		c.add(CodeExpired, SeverityError, "exp", "is %d: it must be a unix time in seconds, the signing time plus the ttl", n)
	} else {
		t.exp, t.hasExp = n, true
	}
	if raw, ok := p["nbf"]; ok {
		if n, problem := numeric(raw); problem != "" {
			c.add(CodeNotYetValid, SeverityError, "nbf", "%s: set nbf to the signing time, or leave it out", problem)
		} else if n <= 0 {
			c.add(CodeNotYetValid, SeverityError, "nbf", "is %d: it must be a unix time in seconds, the signing time, or be left out", n)
		} else {
			t.nbf, t.hasNbf = n, true
		}
	}
	if raw, ok := p["iat"]; ok {
		if n, problem := numeric(raw); problem != "" {
			c.add(CodeInvalidToken, SeverityWarning, "iat", "%s: set iat to the signing time, or leave it out", problem)
		} else if n <= 0 {
			c.add(CodeInvalidToken, SeverityWarning, "iat", "is %d: it must be a unix time in seconds, the signing time, or be left out", n)
		} else {
			t.iat, t.hasIat = n, true
		}
	}

	switch {
	case t.hasExp && t.exp > msThreshold:
		t.expMillis = true
		c.add(CodeExpired, SeverityError, "exp", "is %d, a time in milliseconds (%s): JWT times are unix seconds; divide by 1000", t.exp, when(t.exp/1000))
	case t.hasExp && !c.now.Before(time.Unix(t.exp, 0)):
		c.add(CodeExpired, SeverityError, "exp", "the token expired %s ago (at %s): mint a new one, and renew tokens before they expire", human(now-t.exp), when(t.exp))
	}
	if t.hasNbf && c.now.Before(time.Unix(t.nbf, 0)) {
		if t.nbf > msThreshold {
			c.add(CodeNotYetValid, SeverityError, "nbf", "is %d, a time in milliseconds: JWT times are unix seconds; divide by 1000", t.nbf)
		} else {
			c.add(CodeNotYetValid, SeverityError, "nbf", "the token is not valid for another %s (nbf is %s): the minting server's clock is ahead of this one; sync it (NTP) and set nbf to the signing time", human(t.nbf-now), when(t.nbf))
		}
	}
	return t
}

// checkTTL checks the token's lifetime against Twilio's 24 h maximum, and
// Voice's one second less.
func (c *checker) checkTTL(t times, jtiTime int64, voice bool) {
	if !t.hasExp || t.expMillis {
		return
	}
	issued, source := int64(0), ""
	switch {
	case t.hasNbf:
		issued, source = t.nbf, "nbf"
	case t.hasIat:
		issued, source = t.iat, "iat"
	case jtiTime > 0:
		issued, source = jtiTime, "the time in jti"
	}
	if source != "" && t.exp <= issued {
		c.add(CodeExpired, SeverityError, "exp", "exp (%s) is not after %s (%s): the token is never valid; set exp to the signing time plus the ttl", when(t.exp), source, when(issued))
		return
	}
	// With a known issue time the ttl is exact; without one, what is left
	// from now is the best Twilio can check.
	life := t.exp - c.now.Unix()
	desc := fmt.Sprintf("exp is %s from now", human(life))
	if source != "" {
		life = t.exp - issued
		desc = fmt.Sprintf("the token lives %s (ttl %d s, from %s to exp)", human(life), life, source)
	}
	if life > token.MaxTTL {
		c.add(CodeTTLTooLong, SeverityError, "exp", "%s: Twilio allows at most %d s (24h); mint with a ttl of %d s or less", desc, token.MaxTTL, token.MaxTTL)
	}
	if voice && life > token.MaxTTL-1 {
		c.add(CodeVoiceTTLTooLong, SeverityError, "exp", "%s and the token has a voice grant: the Voice SDK refuses tokens valid for more than %d s; mint voice tokens with a ttl of %d s or less", desc, token.MaxTTL-1, token.MaxTTL-1)
	}
}

// checkOtherClaims reports claims Twilio's libraries never write.
func (c *checker) checkOtherClaims(p map[string]json.RawMessage) {
	for _, key := range sortedKeys(p) {
		switch {
		case slices.Contains(knownClaims, key):
		case key == "identity":
			if _, ok := object(p["grants"])[token.KeyIdentity]; ok {
				c.add(CodeBadGrants, SeverityWarning, "identity", "is a top-level claim: Twilio ignores it and reads grants.identity; remove it")
			} else {
				c.add(CodeBadGrants, SeverityWarning, "identity", "is a top-level claim: Twilio reads the identity from grants.identity only, so this token has none; move it into grants")
			}
		case key == "scope":
			c.add(CodeInvalidToken, SeverityWarning, "scope", "this claim belongs to Capability Tokens (Twilio Client 1.x, TaskRouter), which are not Access Tokens: mint an Access Token with a grant instead")
		default:
			if k, ok := caseVariant(key, knownClaims...); ok {
				c.add(CodeInvalidToken, SeverityWarning, key, "claim names are case-sensitive: Twilio ignores %s; write %q", quote(key), k)
				continue
			}
			c.add(CodeInvalidToken, SeverityInfo, key, "Twilio's libraries do not write this claim; Twilio ignores it")
		}
	}
}

// caseVariant returns the known key that key spells with other case or
// separators ("EXP", "Service_Sid"), if any.
func caseVariant(key string, known ...string) (string, bool) {
	f := fold(key)
	for _, k := range known {
		if k != key && fold(k) == f {
			return k, true
		}
	}
	return "", false
}

func fold(key string) string {
	// A loop rather than a strings.Replacer, which would add ~15 KB to the
	// page's program.
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		if key[i] != '_' && key[i] != '-' {
			b = append(b, key[i])
		}
	}
	return strings.ToLower(string(b))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
