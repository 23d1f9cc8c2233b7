package token

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// MaxIdentityLen bounds identities (Sync documents 1–256 characters).
const MaxIdentityLen = 256

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

// ErrInvalid is wrapped by every *FieldError.
var ErrInvalid = errors.New("invalid")

// FieldError names a field and what is wrong with it.
type FieldError struct {
	Field   string // e.g. "grants.chat.service_sid"
	Problem string // e.g. "must be IS followed by 32 hex digits"
}

func (e *FieldError) Error() string { return e.Field + " " + e.Problem }
func (e *FieldError) Unwrap() error { return ErrInvalid }

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
	return &FieldError{Field: field, Problem: fmt.Sprintf("must be %s followed by 32 hex digits (34 characters), got %s", prefix, got)}
}

func checkOptionalSID(field, prefix, s string) error {
	if s == "" {
		return nil
	}
	return CheckSID(field, prefix, s)
}

// CheckIdentity refuses identities Twilio cannot carry: empty, longer than
// MaxIdentityLen, invalid UTF-8 or containing control characters.
func CheckIdentity(field, id string) error {
	switch {
	case id == "":
		return &FieldError{Field: field, Problem: "must not be empty"}
	case !utf8.ValidString(id):
		return &FieldError{Field: field, Problem: "must be valid UTF-8"}
	case utf8.RuneCountInString(id) > MaxIdentityLen:
		return &FieldError{Field: field, Problem: fmt.Sprintf("must be at most %d characters", MaxIdentityLen)}
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return &FieldError{Field: field, Problem: "must not contain control characters"}
		}
	}
	return nil
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
		return &FieldError{Field: field, Problem: fmt.Sprintf("must be a whole number of seconds from %d to %d, got %d", MinTTL, MaxTTL, ttl)}
	}
	return nil
}

// Validate checks the SIDs in every grant (by prefix and length, as the
// Twilio CLI does) and the identity when one is set.
func (g Grants) Validate() error {
	if g.Identity != "" {
		if err := CheckIdentity("grants.identity", g.Identity); err != nil {
			return err
		}
	}
	checks := []struct{ field, prefix, sid string }{}
	add := func(field, prefix, sid string) {
		checks = append(checks, struct{ field, prefix, sid string }{field, prefix, sid})
	}
	for _, c := range []struct {
		key string
		g   *ChatGrant
	}{{KeyChat, g.Chat}, {KeyIPMessaging, g.IPMessaging}} {
		if c.g != nil {
			add("grants."+c.key+".service_sid", PrefixService, c.g.ServiceSID)
			add("grants."+c.key+".deployment_role_sid", PrefixRole, c.g.DeploymentRoleSID)
			add("grants."+c.key+".push_credential_sid", PrefixPushCredential, c.g.PushCredentialSID)
		}
	}
	if g.Sync != nil {
		add("grants.data_sync.service_sid", PrefixService, g.Sync.ServiceSID)
	}
	if g.Voice != nil {
		if g.Voice.Outgoing != nil {
			add("grants.voice.outgoing.application_sid", PrefixApplication, g.Voice.Outgoing.ApplicationSID)
		}
		add("grants.voice.push_credential_sid", PrefixPushCredential, g.Voice.PushCredentialSID)
	}
	if g.TaskRouter != nil {
		add("grants.task_router.workspace_sid", PrefixWorkspace, g.TaskRouter.WorkspaceSID)
		add("grants.task_router.worker_sid", PrefixWorker, g.TaskRouter.WorkerSID)
	}
	if g.RTC != nil && g.RTC.ConfigurationProfileSID != "" {
		// Twilio documents no prefix for configuration profiles: check the shape only.
		sid := g.RTC.ConfigurationProfileSID
		if len(sid) < 2 || !ValidSID(sid[:2], sid) || sid[0] < 'A' || sid[0] > 'Z' || sid[1] < 'A' || sid[1] > 'Z' {
			return &FieldError{Field: "grants.rtc.configuration_profile_sid", Problem: "must be two capital letters followed by 32 hex digits"}
		}
	}
	for _, c := range checks {
		if err := checkOptionalSID(c.field, c.prefix, c.sid); err != nil {
			return err
		}
	}
	if g.Voice != nil && g.Voice.Outgoing != nil && g.Voice.Outgoing.ApplicationSID == "" && len(g.Voice.Outgoing.Params) > 0 {
		return &FieldError{Field: "grants.voice.outgoing.params", Problem: "needs grants.voice.outgoing.application_sid"}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func asError[T error](err error, target *T) bool { return errors.As(err, target) }
