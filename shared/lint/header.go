package lint

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
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
		c.add(CodeNotAJWT, SeverityError, "header", "the header is "+describe(data)+`, not a JSON object: Twilio expects {"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`)
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
			c.add(CodeBadHeader, SeverityWarning, "header."+key, "header keys are case-sensitive: Twilio ignores "+quote(key)+"; write "+strconv.Quote(k))
			continue
		}
		c.add(CodeBadHeader, SeverityInfo, "header."+key, "Twilio's libraries do not set "+quote(key)+"; Twilio ignores it")
	}
}

// requireHeader checks a header field that must hold one exact value.
func (c *checker) requireHeader(h map[string]jsonlite.Value, key, want, why string) {
	field := "header." + key
	v, ok := h[key]
	if !ok {
		c.add(CodeBadHeader, SeverityError, field, "the header has no "+key+": set "+strconv.Quote(key)+" to "+strconv.Quote(want)+" ("+why+")")
		return
	}
	got, ok := str(v)
	if !ok {
		c.add(CodeBadHeader, SeverityError, field, "must be the string "+strconv.Quote(want)+", not "+kindOf(v))
		return
	}
	if got != want {
		c.add(CodeBadHeader, SeverityError, field, "is "+quote(got)+", must be "+strconv.Quote(want)+" ("+why+")")
	}
}

func (c *checker) checkAlg(h map[string]jsonlite.Value) {
	v, ok := h["alg"]
	if !ok {
		c.add(CodeBadHeader, SeverityError, "header.alg", `the header has no alg: Twilio checks HS256 signatures, set "alg" to "HS256"`)
		return
	}
	alg, ok := str(v)
	if !ok {
		c.add(CodeBadHeader, SeverityError, "header.alg", `must be the string "HS256", not `+kindOf(v))
		return
	}
	c.alg = alg
	switch alg {
	case token.AlgHS256:
	case "HS384", "HS512":
		c.add(CodeBadHeader, SeverityWarning, "header.alg", "is "+alg+": twilio-node can sign with it, but Twilio documents only HS256 and the other libraries use it; sign with HS256")
	case "none", "None", "NONE", "":
		c.add(CodeBadHeader, SeverityError, "header.alg", "is "+quote(alg)+": an unsigned token is never accepted; sign it with HS256 and your API key secret")
	default:
		c.add(CodeBadHeader, SeverityError, "header.alg", "is "+quote(alg)+": Twilio Access Tokens are signed with HMAC (HS256) and the API key secret, not with a key pair; sign with HS256")
	}
}

func (c *checker) checkRegion(h map[string]jsonlite.Value) {
	v, ok := h["twr"]
	if !ok {
		return
	}
	twr, ok := str(v)
	if !ok {
		c.add(CodeBadHeader, SeverityWarning, "header.twr", `must be a region name such as "ie1", not `+kindOf(v)+": leave twr out for us1")
		return
	}
	switch {
	case twr == "us1":
		c.add(CodeBadHeader, SeverityInfo, "header.twr", "names us1, the default region: Twilio's libraries leave twr out for it")
	case slices.Contains(Regions, twr):
		c.add(CodeBadHeader, SeverityInfo, "header.twr", "pins the token to region "+twr+": it must be signed with an API key created in "+twr+", and the SDK must connect to that region")
	case slices.Contains(legacyEdges, twr):
		c.add(CodeBadHeader, SeverityWarning, "header.twr", "is "+quote(twr)+", a legacy Voice SDK edge name, not a Twilio Region ("+list(Regions)+"): set the SDK's edge option instead and leave twr out, or name a region")
	case strings.ToLower(twr) != twr && slices.Contains(Regions, strings.ToLower(twr)):
		c.add(CodeBadHeader, SeverityWarning, "header.twr", "is "+quote(twr)+": region names are lower-case, write "+strconv.Quote(strings.ToLower(twr)))
	default:
		c.add(CodeBadHeader, SeverityWarning, "header.twr", "is "+quote(twr)+", not a Twilio Region ("+list(Regions)+"): Twilio cannot route the token; fix the region or leave twr out for us1")
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
		c.add(CodeNotAJWT, SeverityError, "signature", "the signature cannot be decoded ("+de.Detail+"): copy the whole token again")
		return
	}
	if want, ok := hmacSizes[c.alg]; ok && len(sig) != want {
		c.add(CodeBadSignature, SeverityError, "signature", "is "+strconv.Itoa(len(sig))+" bytes, an "+c.alg+" signature is "+strconv.Itoa(want)+": the token was cut short or altered when copied; copy it again")
	}
}

// describe names what data, which is not a JSON object, is instead.
func describe(data []byte) string {
	v, err := jsonlite.Parse(data)
	if err != nil {
		return "not valid JSON"
	}
	return kindOf(v)
}
