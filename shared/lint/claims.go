package lint

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
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
		c.add(CodeNotAJWT, SeverityError, "payload", "the payload is "+describe(data)+", not a JSON object of claims: mint the token with a Twilio helper library")
		return
	}
	iss := c.checkIssuer(p)
	c.checkSubject(p, iss)
	t := c.checkTimes(p)
	jtiTime := c.checkJTI(p, iss)
	_, voice := p["grants"].Map()["voice"]
	c.checkTTL(t, jtiTime, voice)
	c.checkGrants(p)
	c.checkOtherClaims(p)
}

// stringClaim reads a claim that must be a string, reporting it missing or
// of the wrong type with code and sev.
func (c *checker) stringClaim(p map[string]jsonlite.Value, key string, code int, sev Severity, missing string) (string, bool) {
	v, ok := p[key]
	if !ok {
		c.add(code, sev, key, missing)
		return "", false
	}
	if v.Kind != jsonlite.String {
		c.add(code, sev, key, "must be a string, not "+kindOf(v))
		return "", false
	}
	return v.Str, true
}

// checkIssuer returns iss when it is a string.
func (c *checker) checkIssuer(p map[string]jsonlite.Value) string {
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
		c.add(CodeBadIssuer, SeverityError, "iss", sidProblem(token.PrefixAPIKey, iss)+": it is the SID of the API key that signs the token")
	}
	return iss
}

func (c *checker) checkSubject(p map[string]jsonlite.Value, iss string) {
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
		c.add(CodeBadIssuer, SeverityError, "sub", sidProblem(token.PrefixAccount, sub)+": it is the SID of the account the token is for")
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
func (c *checker) checkJTI(p map[string]jsonlite.Value, iss string) int64 {
	jti, ok := c.stringClaim(p, "jti", CodeInvalidToken, SeverityWarning,
		`the token has no jti: Twilio's libraries set it to "{API key SID}-{unix seconds}" so that each token is unique; set it the same way`)
	if !ok {
		return 0
	}
	sec, hasTime := token.Claims{JTI: jti}.JTITime()
	if !hasTime {
		c.add(CodeInvalidToken, SeverityWarning, "jti", "is "+quote(jti)+`: Twilio's libraries write "{API key SID}-{unix seconds}"`+c.example(iss)+"; use that form so each token is unique and its signing time can be read")
		return 0
	}
	prefix := jti[:strings.LastIndexByte(jti, '-')]
	switch {
	case iss != "" && prefix != iss:
		c.add(CodeInvalidToken, SeverityWarning, "jti", "is "+quote(jti)+` and does not start with iss: Twilio's libraries write "{iss}-{unix seconds}"`+c.example(iss))
	case iss == "" && !token.ValidSID(token.PrefixAPIKey, prefix):
		c.add(CodeInvalidToken, SeverityWarning, "jti", "is "+quote(jti)+`: Twilio's libraries write "{API key SID}-{unix seconds}"`)
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
func (c *checker) checkTimes(p map[string]jsonlite.Value) times {
	var t times
	now := c.now.Unix()
	if v, ok := p["exp"]; !ok {
		c.add(CodeExpired, SeverityError, "exp", "the token has no exp: Twilio refuses tokens without an expiry; set exp to the signing time plus the ttl (at most 86400 s)")
	} else if n, problem := numeric(v); problem != "" {
		c.add(CodeExpired, SeverityError, "exp", problem+": set exp to the signing time plus the ttl")
	} else if n <= 0 {
		c.add(CodeExpired, SeverityError, "exp", "is "+itoa(n)+": it must be a unix time in seconds, the signing time plus the ttl")
	} else {
		t.exp, t.hasExp = n, true
	}
	if v, ok := p["nbf"]; ok {
		if n, problem := numeric(v); problem != "" {
			c.add(CodeNotYetValid, SeverityError, "nbf", problem+": set nbf to the signing time, or leave it out")
		} else if n <= 0 {
			c.add(CodeNotYetValid, SeverityError, "nbf", "is "+itoa(n)+": it must be a unix time in seconds, the signing time, or be left out")
		} else {
			t.nbf, t.hasNbf = n, true
		}
	}
	if v, ok := p["iat"]; ok {
		if n, problem := numeric(v); problem != "" {
			c.add(CodeInvalidToken, SeverityWarning, "iat", problem+": set iat to the signing time, or leave it out")
		} else if n <= 0 {
			c.add(CodeInvalidToken, SeverityWarning, "iat", "is "+itoa(n)+": it must be a unix time in seconds, the signing time, or be left out")
		} else {
			t.iat, t.hasIat = n, true
		}
	}

	switch {
	case t.hasExp && t.exp > msThreshold:
		t.expMillis = true
		c.add(CodeExpired, SeverityError, "exp", "is "+itoa(t.exp)+", a time in milliseconds ("+token.Stamp(t.exp/1000)+"): JWT times are unix seconds; divide by 1000")
	case t.hasExp && !c.now.Before(time.Unix(t.exp, 0)):
		c.add(CodeExpired, SeverityError, "exp", "the token expired "+human(now-t.exp)+" ago (at "+token.Stamp(t.exp)+"): mint a new one, and renew tokens before they expire")
	}
	if t.hasNbf && c.now.Add(c.leeway).Before(time.Unix(t.nbf, 0)) {
		if t.nbf > msThreshold {
			c.add(CodeNotYetValid, SeverityError, "nbf", "is "+itoa(t.nbf)+", a time in milliseconds: JWT times are unix seconds; divide by 1000")
		} else {
			c.add(CodeNotYetValid, SeverityError, "nbf", "the token is not valid for another "+human(t.nbf-now)+" (nbf is "+token.Stamp(t.nbf)+"): the minting server's clock is ahead of this one; sync it (NTP) and set nbf to the signing time")
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
		c.add(CodeExpired, SeverityError, "exp", "exp ("+token.Stamp(t.exp)+") is not after "+source+" ("+token.Stamp(issued)+"): the token is never valid; set exp to the signing time plus the ttl")
		return
	}
	// With a known issue time the ttl is exact; without one, what is left
	// from now is the best Twilio can check.
	life := t.exp - c.now.Unix()
	desc := "exp is " + human(life) + " from now"
	if source != "" {
		life = t.exp - issued
		desc = "the token lives " + human(life) + " (ttl " + itoa(life) + " s, from " + source + " to exp)"
	}
	if life > token.MaxTTL {
		max := itoa(token.MaxTTL)
		c.add(CodeTTLTooLong, SeverityError, "exp", desc+": Twilio allows at most "+max+" s (24h); mint with a ttl of "+max+" s or less")
	}
	if voice && life > token.MaxTTL-1 {
		max := itoa(token.MaxTTL - 1)
		c.add(CodeVoiceTTLTooLong, SeverityError, "exp", desc+" and the token has a voice grant: the Voice SDK refuses tokens valid for more than "+max+" s; mint voice tokens with a ttl of "+max+" s or less")
	}
}

// checkOtherClaims reports claims Twilio's libraries never write.
func (c *checker) checkOtherClaims(p map[string]jsonlite.Value) {
	for _, key := range sortedKeys(p) {
		switch {
		case slices.Contains(knownClaims, key):
		case key == "identity":
			if _, ok := p["grants"].Map()[token.KeyIdentity]; ok {
				c.add(CodeBadGrants, SeverityWarning, "identity", "is a top-level claim: Twilio ignores it and reads grants.identity; remove it")
			} else {
				c.add(CodeBadGrants, SeverityWarning, "identity", "is a top-level claim: Twilio reads the identity from grants.identity only, so this token has none; move it into grants")
			}
		case key == "scope":
			c.add(CodeInvalidToken, SeverityWarning, "scope", "this claim belongs to Capability Tokens (Twilio Client 1.x, TaskRouter), which are not Access Tokens: mint an Access Token with a grant instead")
		default:
			if k, ok := caseVariant(key, knownClaims...); ok {
				c.add(CodeInvalidToken, SeverityWarning, key, "claim names are case-sensitive: Twilio ignores "+quote(key)+"; write "+strconv.Quote(k))
				continue
			}
			c.add(CodeInvalidToken, SeverityInfo, key, "Twilio's libraries do not write this claim; Twilio ignores it")
		}
	}
}

// caseVariant returns the known key that key spells with other case or
// separators ("EXP", "Service_Sid"), if any.
func caseVariant(key string, known ...string) (string, bool) {
	f := token.FoldKey(key)
	for _, k := range known {
		if k != key && token.FoldKey(k) == f {
			return k, true
		}
	}
	return "", false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// itoa formats n for a message.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
