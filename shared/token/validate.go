package token

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIdentityLen bounds identities (Sync documents 1–256 characters; longer
// ones fail client connections with error 51003).
const MaxIdentityLen = 256

// MaxEndpointIDLen bounds endpoint_id values. Twilio documents no number,
// only that a too long endpoint_id fails with error 51004; the identity's
// limit is used because the documented endpoint_id shape,
// "AppName:identity:device", embeds an identity, and helper-library sized
// ids stay far below it.
const MaxEndpointIDLen = 256

// SID prefixes used in tokens.
const (
	PrefixAccount        = "AC"
	PrefixAPIKey         = "SK"
	PrefixApplication    = "AP"
	PrefixPushCredential = "CR"
	PrefixRole           = "RL"
	PrefixWorkspace      = "WS"
	PrefixWorker         = "WK"
	PrefixService        = "IS" // Chat, Conversations and Sync services.
)

// ErrInvalid is wrapped by every *FieldError. The more specific errors below
// wrap it in turn, so errors.Is(err, ErrInvalid) holds for all of them.
var ErrInvalid = errors.New("invalid")

// Kinds of *FieldError, checked with errors.Is.
var (
	ErrUnknownField error = &invalidKind{"unknown field"} // a key Twilio does not define
	ErrWrongType    error = &invalidKind{"wrong type"}    // e.g. a number where a string belongs
	ErrBadSID       error = &invalidKind{"malformed SID"} // wrong prefix, length or digits
	ErrBadIdentity  error = &invalidKind{"bad identity"}  // empty, too long, control characters
	ErrOutOfRange   error = &invalidKind{"out of range"}  // a ttl or a length over its limit
	ErrMissingField error = &invalidKind{"missing field"} // a field another one depends on
)

// invalidKind is a kind of ErrInvalid, written "invalid: unknown field"
// as wrapping with %w would write it, without fmt, which the page's
// program does not link.
type invalidKind struct{ kind string }

func (k *invalidKind) Error() string { return ErrInvalid.Error() + ": " + k.kind }
func (k *invalidKind) Unwrap() error { return ErrInvalid }

// FieldError names a field and what is wrong with it.
type FieldError struct {
	Field   string // e.g. "grants.chat.service_sid"
	Problem string // e.g. "must be IS followed by 32 hex digits"
	// Err is the kind of problem (ErrBadSID…); nil means plain ErrInvalid.
	Err error
}

func (e *FieldError) Error() string { return e.Field + " " + e.Problem }

// Unwrap returns the kind of problem, which wraps ErrInvalid.
func (e *FieldError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return ErrInvalid
}

// ValidSID reports whether s is prefix followed by 32 hex digits.
func ValidSID(prefix, s string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for i := 2; i < 34; i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// CheckSID returns a FieldError naming field when s is not a SID with prefix.
func CheckSID(field, prefix, s string) error {
	if ValidSID(prefix, s) {
		return nil
	}
	got := "an empty value"
	if s != "" {
		got = strconv.Quote(truncate(s, 40))
	}
	return &FieldError{Field: field, Problem: "must be " + prefix + " followed by 32 hex digits (34 characters), got " + got, Err: ErrBadSID}
}

// CheckIdentity refuses identities Twilio cannot carry: empty, longer than
// MaxIdentityLen, invalid UTF-8 or containing control characters; and
// identities that could pass for another: with invisible or bidi
// formatting characters. It does not normalize (shared/ has no Unicode
// tables for that): the server brings names to NFC before checking.
func CheckIdentity(field, id string) error {
	if plainASCIIIdentity(id) {
		return nil // the usual identity, checked in one pass
	}
	return checkIdentityRunes(field, id)
}

// checkIdentityRunes is CheckIdentity's full check, rune by rune.
func checkIdentityRunes(field, id string) error {
	switch {
	case id == "":
		return &FieldError{Field: field, Problem: "must not be empty", Err: ErrBadIdentity}
	case !utf8.ValidString(id):
		return &FieldError{Field: field, Problem: "must be valid UTF-8", Err: ErrBadIdentity}
	case utf8.RuneCountInString(id) > MaxIdentityLen:
		return &FieldError{Field: field, Problem: "must be at most " + strconv.Itoa(MaxIdentityLen) + " characters, got " + strconv.Itoa(utf8.RuneCountInString(id)), Err: ErrBadIdentity}
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return &FieldError{Field: field, Problem: "must not contain control characters (found " + codePoint(r) + ")", Err: ErrBadIdentity}
		}
		if invisible(r) {
			return &FieldError{Field: field, Problem: "must not contain invisible or bidirectional formatting characters (found " + codePoint(r) + "): type the name without it", Err: ErrBadIdentity}
		}
	}
	return nil
}

// invisible reports format characters (Unicode category Cf: bidi controls,
// zero-width spaces and joiners, the BOM…) and the line and paragraph
// separators. They draw nothing, or reorder what is drawn, so two
// identities that look the same could differ by one of them.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// plainASCIIIdentity reports whether id is non-empty, printable ASCII and
// no longer than MaxIdentityLen: an identity CheckIdentity accepts.
func plainASCIIIdentity(id string) bool {
	if id == "" || len(id) > MaxIdentityLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// VoiceSafeIdentity reports whether Voice accepts id: only ASCII letters,
// digits and underscore.
func VoiceSafeIdentity(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return id != ""
}

// CheckTTL refuses a ttl outside MinTTL..MaxTTL seconds.
func CheckTTL(field string, ttl int64) error {
	if ttl < MinTTL || ttl > MaxTTL {
		return &FieldError{Field: field, Problem: "must be a whole number of seconds from " + strconv.Itoa(MinTTL) + " to " + strconv.Itoa(MaxTTL) + ", got " + strconv.FormatInt(ttl, 10), Err: ErrOutOfRange}
	}
	return nil
}

// Validate checks the SIDs in every grant (by prefix and length, as the
// Twilio CLI does), the endpoint ids' length, and the identity when one is
// set. It returns the first problem; CheckGrants reports them all.
func (g Grants) Validate() error {
	if p := g.problems(); len(p) > 0 {
		return p[0]
	}
	return nil
}

// problems lists every problem Validate knows of, in a stable order:
// identity first, then grants in GrantKeys order.
func (g Grants) problems() []*FieldError {
	var out []*FieldError
	add := func(err error) {
		if err == nil {
			return // most checks pass; errors.As below would allocate fe
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
		}
	}
	sid := func(field, prefix, s string) {
		if s != "" {
			add(CheckSID(field, prefix, s))
		}
	}
	endpoint := func(field, id string) {
		if n := utf8.RuneCountInString(id); n > MaxEndpointIDLen {
			add(&FieldError{Field: field, Problem: "must be at most " + strconv.Itoa(MaxEndpointIDLen) + " characters, got " + strconv.Itoa(n), Err: ErrOutOfRange})
		}
	}
	if g.Identity != "" {
		add(CheckIdentity("grants.identity", g.Identity))
	}
	for _, c := range []struct {
		key string
		g   *ChatGrant
	}{{KeyChat, g.Chat}, {KeyIPMessaging, g.IPMessaging}} {
		if c.g != nil {
			sid("grants."+c.key+".service_sid", PrefixService, c.g.ServiceSID)
			endpoint("grants."+c.key+".endpoint_id", c.g.EndpointID)
			sid("grants."+c.key+".deployment_role_sid", PrefixRole, c.g.DeploymentRoleSID)
			sid("grants."+c.key+".push_credential_sid", PrefixPushCredential, c.g.PushCredentialSID)
		}
	}
	if g.Sync != nil {
		sid("grants.data_sync.service_sid", PrefixService, g.Sync.ServiceSID)
		endpoint("grants.data_sync.endpoint_id", g.Sync.EndpointID)
	}
	if v := g.Voice; v != nil {
		if v.Outgoing != nil {
			sid("grants.voice.outgoing.application_sid", PrefixApplication, v.Outgoing.ApplicationSID)
			if v.Outgoing.ApplicationSID == "" && len(v.Outgoing.Params) > 0 {
				add(&FieldError{Field: "grants.voice.outgoing.params", Problem: "needs grants.voice.outgoing.application_sid: Twilio passes params to that TwiML application", Err: ErrMissingField})
			}
		}
		sid("grants.voice.push_credential_sid", PrefixPushCredential, v.PushCredentialSID)
		endpoint("grants.voice.endpoint_id", v.EndpointID)
	}
	if g.TaskRouter != nil {
		sid("grants.task_router.workspace_sid", PrefixWorkspace, g.TaskRouter.WorkspaceSID)
		sid("grants.task_router.worker_sid", PrefixWorker, g.TaskRouter.WorkerSID)
	}
	if g.RTC != nil && g.RTC.ConfigurationProfileSID != "" {
		// Twilio documents no prefix for configuration profiles: check the shape only.
		s := g.RTC.ConfigurationProfileSID
		if len(s) < 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || !ValidSID(s[:2], s) {
			add(&FieldError{Field: "grants.rtc.configuration_profile_sid", Problem: "must be two capital letters followed by 32 hex digits, got " + strconv.Quote(truncate(s, 40)), Err: ErrBadSID})
		}
	}
	return out
}

// codePoint writes r as %U does: "U+" and at least four upper-case hex
// digits.
func codePoint(r rune) string {
	h := strings.ToUpper(strconv.FormatInt(int64(r), 16))
	if len(h) < 4 {
		h = strings.Repeat("0", 4-len(h)) + h
	}
	return "U+" + h
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
