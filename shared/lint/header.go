package lint

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/tokenlab/tokenlab/shared/token"
)

// Regions are the Twilio Regions a token's twr header may name.
var Regions = []string{"us1", "ie1", "au1"}

// legacyEdges are the names the Voice SDK once took as "regions"; they
// name edge locations, not Twilio Regions, and do not belong in twr.
var legacyEdges = []string{"gll", "br1", "de1", "jp1", "sg1", "us2"}

// hmacSizes maps the algorithms Twilio's libraries sign with to their
// signature length in bytes.
var hmacSizes = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

func notJWTMessage(raw string, de *token.DecodeError) string {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "the token is empty: paste an Access Token, a JWT of three base64url segments separated by dots"
	case strings.HasPrefix(s, "{"):
		return `this is JSON, not a token: pass the Access Token string itself (for example the value of "token" in {"token": "eyJ…"})`
	case token.ValidSID(token.PrefixAccount, s):
		return "this is an Account SID, not an Access Token: mint a token with a Twilio helper library and pass that"
	case token.ValidSID(token.PrefixAPIKey, s):
		return "this is an API key SID, not an Access Token: mint a token with a Twilio helper library and pass that"
	case len(s) == 32 && isHex(s):
		return "this looks like an auth token or an API key secret, not an Access Token: keep it on the server, revoke it if it was shared, and pass a minted token instead"
	}
	return "not a JWT: " + detail(de) + "; paste the whole Access Token"
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (c *checker) checkHeader(data []byte) {
	h := object(data)
	if h == nil {
		c.add(CodeNotAJWT, SeverityError, "header", "the header is %s, not a JSON object: Twilio expects {\"typ\":\"JWT\",\"alg\":\"HS256\",\"cty\":\"twilio-fpa;v=1\"}", describe(data))
		return
	}
	c.requireHeader(h, "cty", token.ContentTypeFPA, "Twilio recognises an Access Token by it; every Twilio helper library sets it")
	c.requireHeader(h, "typ", token.TypeJWT, "every Twilio helper library sets it")
	c.checkAlg(h)
	c.checkRegion(h)
	for _, key := range sortedKeys(h) {
		switch key {
		case "cty", "typ", "alg", "twr":
			continue
		}
		if k, ok := caseVariant(key, "cty", "typ", "alg", "twr"); ok {
			c.add(CodeBadHeader, SeverityWarning, "header."+key, "header keys are case-sensitive: Twilio ignores %s; write %q", quote(key), k)
			continue
		}
		c.add(CodeBadHeader, SeverityInfo, "header."+key, "Twilio's libraries do not set %s; Twilio ignores it", quote(key))
	}
}

// requireHeader checks a header field that must hold one exact value.
func (c *checker) requireHeader(h map[string]json.RawMessage, key, want, why string) {
	field := "header." + key
	raw, ok := h[key]
	if !ok {
		c.add(CodeBadHeader, SeverityError, field, "the header has no %s: set %q to %q (%s)", key, key, want, why)
		return
	}
	var got string
	if json.Unmarshal(raw, &got) != nil {
		c.add(CodeBadHeader, SeverityError, field, "must be the string %q, not %s", want, kindOf(raw))
		return
	}
	if got != want {
		c.add(CodeBadHeader, SeverityError, field, "is %s, must be %q (%s)", quote(got), want, why)
	}
}

func (c *checker) checkAlg(h map[string]json.RawMessage) {
	raw, ok := h["alg"]
	if !ok {
		c.add(CodeBadHeader, SeverityError, "header.alg", `the header has no alg: Twilio checks HS256 signatures, set "alg" to "HS256"`)
		return
	}
	var alg string
	if json.Unmarshal(raw, &alg) != nil {
		c.add(CodeBadHeader, SeverityError, "header.alg", `must be the string "HS256", not %s`, kindOf(raw))
		return
	}
	c.alg = alg
	switch alg {
	case token.AlgHS256:
	case "HS384", "HS512":
		c.add(CodeBadHeader, SeverityWarning, "header.alg", "is %s: twilio-node can sign with it, but Twilio documents only HS256 and the other libraries use it; sign with HS256", alg)
	case "none", "None", "NONE", "":
		c.add(CodeBadHeader, SeverityError, "header.alg", "is %s: an unsigned token is never accepted; sign it with HS256 and your API key secret", quote(alg))
	default:
		c.add(CodeBadHeader, SeverityError, "header.alg", "is %s: Twilio Access Tokens are signed with HMAC (HS256) and the API key secret, not with a key pair; sign with HS256", quote(alg))
	}
}

func (c *checker) checkRegion(h map[string]json.RawMessage) {
	raw, ok := h["twr"]
	if !ok {
		return
	}
	var twr string
	if json.Unmarshal(raw, &twr) != nil {
		c.add(CodeBadHeader, SeverityWarning, "header.twr", "must be a region name such as \"ie1\", not %s: leave twr out for us1", kindOf(raw))
		return
	}
	switch {
	case twr == "us1":
		c.add(CodeBadHeader, SeverityInfo, "header.twr", "names us1, the default region: Twilio's libraries leave twr out for it")
	case slices.Contains(Regions, twr):
		c.add(CodeBadHeader, SeverityInfo, "header.twr", "pins the token to region %s: it must be signed with an API key created in %s, and the SDK must connect to that region", twr, twr)
	case slices.Contains(legacyEdges, twr):
		c.add(CodeBadHeader, SeverityWarning, "header.twr", "is %s, a legacy Voice SDK edge name, not a Twilio Region (%s): set the SDK's edge option instead and leave twr out, or name a region", quote(twr), list(Regions))
	case strings.ToLower(twr) != twr && slices.Contains(Regions, strings.ToLower(twr)):
		c.add(CodeBadHeader, SeverityWarning, "header.twr", "is %s: region names are lower-case, write %q", quote(twr), strings.ToLower(twr))
	default:
		c.add(CodeBadHeader, SeverityWarning, "header.twr", "is %s, not a Twilio Region (%s): Twilio cannot route the token; fix the region or leave twr out for us1", quote(twr), list(Regions))
	}
}

// checkSignature checks what can be checked without the secret: that there
// is a signature, and that its length fits the algorithm.
func (c *checker) checkSignature(raw string, sig []byte, de *token.DecodeError) {
	if de != nil {
		if strings.HasSuffix(strings.TrimSpace(raw), ".") {
			c.add(CodeBadSignature, SeverityError, "signature", "the token has no signature (it ends with a dot): Twilio refuses unsigned tokens; sign it with HS256 and your API key secret")
			return
		}
		c.add(CodeNotAJWT, SeverityError, "signature", "the signature cannot be decoded (%s): copy the whole token again", de.Detail)
		return
	}
	if want, ok := hmacSizes[c.alg]; ok && len(sig) != want {
		c.add(CodeBadSignature, SeverityError, "signature", "is %d bytes, an %s signature is %d: the token was cut short or altered when copied; copy it again", len(sig), c.alg, want)
	}
}

func describe(data []byte) string {
	if !json.Valid(data) {
		return "not valid JSON"
	}
	return kindOf(data)
}
