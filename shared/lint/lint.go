// Package lint checks a Twilio Access Token the way Twilio's services read
// one, without its secret, and reports each problem as a Finding that names
// the Twilio error code a real service would answer, the field at fault and
// what to do about it.
//
// It sees what a JWT library hides: a misspelled key ("EXP"), a grant
// Twilio does not know ("sync" for "data_sync"), an identity Voice cannot
// route, a ttl one second too long for Voice. It cannot check the
// signature: that needs the API key secret, which never leaves the server.
//
// It imports only the standard library so that the browser build can use it,
// and neither fmt nor encoding/json (it reads JSON with jsonlite): they would
// add to the size and start-up time of the page's program.
package lint

import (
	"errors"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Severity says how much a finding matters.
type Severity string

// Severities, from the most to the least serious.
const (
	SeverityError   Severity = "error"   // Twilio refuses the token
	SeverityWarning Severity = "warning" // Twilio takes it, but something will not work as meant
	SeverityInfo    Severity = "info"    // worth knowing; nothing to fix
)

// Twilio error codes the findings carry. A service answers the code when a
// client presents a token with the problem.
const (
	CodeInvalidToken      = 20101 // Invalid Access Token
	CodeBadHeader         = 20102 // Invalid Access Token header
	CodeBadIssuer         = 20103 // Invalid Access Token issuer/subject
	CodeExpired           = 20104 // Access Token expired or expiration date invalid
	CodeNotYetValid       = 20105 // Access Token not yet valid
	CodeBadGrants         = 20106 // Invalid Access Token grants
	CodeBadSignature      = 20107 // Invalid Access Token signature
	CodeTTLTooLong        = 20157 // Expiration Time Exceeds Maximum Time Allowed
	CodeNotAJWT           = 20160 // Invalid Token (not a JWT, bad header)
	CodeVoiceTTLTooLong   = 31207 // JWT token expiration interval is too long (Voice)
	CodeIdentityTooLong   = 51003 // Client Connection: identity too long
	CodeEndpointIDTooLong = 51004 // Client Connection: endpoint_id too long
)

// Finding is one problem (or remark) about a token.
type Finding struct {
	Code     int      `json:"code"`     // the Twilio error code a service would answer
	Severity Severity `json:"severity"` // error, warning or info
	Field    string   `json:"field"`    // "token", "header.alg", "exp", "grants.voice.incoming"…
	Message  string   `json:"message"`  // what is wrong and what to do, for a person
}

// String formats a finding on one line: "error 20104 exp: the token expired…".
func (f Finding) String() string {
	return string(f.Severity) + " " + strconv.Itoa(f.Code) + " " + f.Field + ": " + f.Message
}

// HasErrors reports whether any finding is an error, that is, whether a
// Twilio service would refuse the token.
func HasErrors(findings []Finding) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Severity == SeverityError })
}

// Check lints raw (a token as pasted: white space and a "Bearer " prefix are
// fine) at time now. Errors come first, then warnings, then remarks; within
// a severity, findings follow the token's order (header, signature, claims,
// grants). A token with nothing to report gives an empty, non-nil slice.
func Check(raw string, now time.Time) []Finding {
	return CheckWithin(raw, now, 0)
}

// CheckWithin is Check for a caller whose now is an estimate good to within
// leeway, such as the page's estimate of the server's clock: a token is
// called not yet valid only when it is so even at now+leeway. Expiry is
// still reported at exp: a late "expired" would hide a renewal that came
// too late, and whoever renews does so well before exp.
func CheckWithin(raw string, now time.Time, leeway time.Duration) []Finding {
	c := &checker{now: now, leeway: max(leeway, 0), findings: []Finding{}}
	c.check(raw)
	// Three passes rather than a stable sort: there are three ranks, and
	// the page's program is spared a generic sort (~10 KB of wasm).
	sorted := make([]Finding, 0, len(c.findings))
	for r := range 3 {
		for _, f := range c.findings {
			if rank(f.Severity) == r {
				sorted = append(sorted, f)
			}
		}
	}
	return sorted
}

func rank(s Severity) int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// checker accumulates findings for one token.
type checker struct {
	now      time.Time
	leeway   time.Duration // how far ahead the real now may be (CheckWithin)
	findings []Finding
	alg      string // the header's alg when it is a string, for the signature length
}

func (c *checker) add(code int, sev Severity, field, message string) {
	c.findings = append(c.findings, Finding{Code: code, Severity: sev, Field: fieldName(field), Message: message})
}

// fieldName makes a field printable on one line: field names come from the
// token's keys, which may be empty, huge or hold a newline.
func fieldName(f string) string {
	printable := f != "" && utf8.ValidString(f)
	for _, r := range f {
		printable = printable && strconv.IsPrint(r)
	}
	if !printable {
		f = strconv.Quote(f)
	}
	const max = 120
	if len(f) > max {
		n := max
		for n > 0 && !utf8.RuneStart(f[n]) {
			n--
		}
		f = f[:n] + "…"
	}
	return f
}

func (c *checker) check(raw string) {
	header, payload, sig, err := token.DecodeSegments(raw)
	var de *token.DecodeError
	errors.As(err, &de)
	switch {
	case errors.Is(err, token.ErrNotJWT):
		c.add(CodeNotAJWT, SeverityError, "token", notJWTMessage(raw, de))
		return
	case errors.Is(err, token.ErrBadHeader):
		c.add(CodeNotAJWT, SeverityError, "header", "the header cannot be decoded ("+detail(de)+"): copy the whole token again, it is three base64url segments separated by dots")
		return
	case errors.Is(err, token.ErrBadPayload):
		c.add(CodeNotAJWT, SeverityError, "payload", "the payload cannot be decoded ("+detail(de)+"): copy the whole token again, it is three base64url segments separated by dots")
		return
	}
	c.checkHeader(header)
	c.checkSignature(raw, sig, de)
	c.checkPayload(payload)
}

func detail(de *token.DecodeError) string {
	if de == nil {
		return "unknown problem"
	}
	return de.Detail
}

// object decodes a JSON object into its members by key (the last of
// duplicate keys wins, as in encoding/json), or returns nil when data is
// not one.
func object(data []byte) map[string]jsonlite.Value {
	v, err := jsonlite.Parse(data)
	if err != nil {
		return nil
	}
	return v.Map()
}

// str reads v as json.Unmarshal into a string would: a string, or null,
// which leaves the string empty.
func str(v jsonlite.Value) (string, bool) {
	switch v.Kind {
	case jsonlite.String:
		return v.Str, true
	case jsonlite.Null:
		return "", true
	}
	return "", false
}
