// Package view turns a decoded token into what the page shows: grant cards
// that say in words what each grant allows, formatted JSON, times and
// countdowns, and the grants a sign-in asks for. It is plain Go with no
// syscall/js, so everything the page displays is tested on the host; the
// page's DOM code only copies these values into elements.
package view

import (
	"slices"
	"strconv"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/jsonlite"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Status is the state of the page's token, as shown and as reported by
// window.tokenlab.snapshot().
type Status string

// The statuses, in the order a token's life goes through them.
const (
	SignedOut Status = "signed out" // no token: the sign-in form is shown
	Valid     Status = "valid"      // a token with time to spare
	Expiring  Status = "expiring"   // within the warning lead of expiry
	Renewing  Status = "renewing"   // a renewal is in flight
	Expired   Status = "expired"    // past expiry and not yet replaced
)

// StatusAt returns the status of a token expiring at exp at server time now,
// given the warning lead and whether a renewal is in flight. A token past
// expiry is expired even while a renewal runs: the page never hides that.
func StatusAt(now, exp time.Time, lead time.Duration, renewing bool) Status {
	switch {
	case exp.IsZero():
		return SignedOut
	case !now.Before(exp):
		return Expired
	case renewing:
		return Renewing
	case !now.Before(exp.Add(-lead)):
		return Expiring
	}
	return Valid
}

// Card describes one grant for a person.
type Card struct {
	Key    string   // the key in "grants" ("video")
	Title  string   // the product ("Programmable Video")
	Allows []string // one sentence per thing the grant opens or limits
	Known  bool     // false for keys Twilio does not define
	JSON   string   // the grant's raw JSON, indented
}

// Cards returns one card per grant in t, in token.GrantKeys order followed
// by unknown keys. The raw JSON is taken from the payload as signed, so the
// page shows exactly what the token carries.
func Cards(t *token.Token) []Card {
	raw := rawGrants(t.PayloadJSON)
	g := t.Claims.Grants
	keys := g.Keys()
	cards := make([]Card, 0, len(keys))
	for _, k := range keys {
		c := describe(k, g)
		c.JSON = Pretty(raw[k].Raw)
		cards = append(cards, c)
	}
	return cards
}

// rawGrants returns the members of the payload's "grants" object, read as
// token.Decode reads it: the key spelled exactly, the last of duplicates
// winning.
func rawGrants(payload []byte) map[string]jsonlite.Value {
	p, _ := jsonlite.Parse(payload) // already decoded once by token.Decode
	g, _ := p.Get("grants")
	return g.Map()
}

func describe(key string, g token.Grants) Card {
	c := Card{Key: key, Known: true}
	add := func(s string) { c.Allows = append(c.Allows, s) }
	switch key {
	case token.KeyVideo:
		c.Title = "Programmable Video"
		if g.Video.Room != "" {
			add("Join the video room " + strconv.Quote(g.Video.Room) + " only.")
		} else {
			add("Join any video room of the account.")
		}
	case token.KeyChat, token.KeyIPMessaging:
		cg := g.Chat
		c.Title = "Conversations / Chat"
		if key == token.KeyIPMessaging {
			cg = g.IPMessaging
			c.Title = "Programmable Chat (legacy IP Messaging)"
		}
		service(add, "chat", cg.ServiceSID)
		if cg.EndpointID != "" {
			add("Connect as endpoint " + strconv.Quote(cg.EndpointID) + ".")
		}
		if cg.DeploymentRoleSID != "" {
			add("Act with the deployment role " + cg.DeploymentRoleSID + ".")
		}
		if cg.PushCredentialSID != "" {
			add("Receive push notifications through credential " + cg.PushCredentialSID + ".")
		}
	case token.KeySync:
		c.Title = "Sync"
		service(add, "Sync", g.Sync.ServiceSID)
		if g.Sync.EndpointID != "" {
			add("Connect as endpoint " + strconv.Quote(g.Sync.EndpointID) + ".")
		}
	case token.KeyVoice:
		c.Title = "Programmable Voice"
		v := g.Voice
		if v.Outgoing != nil && v.Outgoing.ApplicationSID != "" {
			s := "Place outgoing calls handled by the TwiML application " + v.Outgoing.ApplicationSID
			if n := len(v.Outgoing.Params); n > 0 {
				s += ", passing it " + plural(n, "parameter")
			}
			add(s + ".")
		}
		if v.Incoming != nil && v.Incoming.Allow {
			add("Receive incoming calls to this identity.")
		}
		if v.PushCredentialSID != "" {
			add("Be woken for calls by push notifications through credential " + v.PushCredentialSID + ".")
		}
		if len(c.Allows) == 0 {
			add("Use the Voice SDK, but neither place nor receive calls: add an application SID or allow incoming calls.")
		}
		if !token.VoiceSafeIdentity(g.Identity) {
			add("Warning: Voice accepts only letters, digits and underscores in the identity.")
		}
	case token.KeyTaskRouter:
		c.Title = "TaskRouter"
		tr := g.TaskRouter
		s := "Work in the TaskRouter workspace " + orAny(tr.WorkspaceSID, "(none given)")
		if tr.WorkerSID != "" {
			s += " as worker " + tr.WorkerSID
		}
		if tr.Role != "" {
			s += " with the role " + strconv.Quote(tr.Role)
		}
		add(s + ".")
	case token.KeyPlayer:
		c.Title = "Live Player"
		add("Play a Twilio Live stream with the Player SDK (the grant is passed on from Twilio's API as is).")
	case token.KeyRTC:
		c.Title = "Conversations (rtc, deprecated)"
		if g.RTC.ConfigurationProfileSID != "" {
			add("Use the configuration profile " + g.RTC.ConfigurationProfileSID + ".")
		} else {
			add("Use the deprecated Conversations product.")
		}
	default:
		c.Title = "Unknown grant"
		c.Known = false
		add("Twilio defines no grant " + strconv.Quote(key) + ": its services ignore it or refuse the token.")
	}
	return c
}

func service(add func(string), product, sid string) {
	if sid == "" {
		add("No " + product + " service is named: the SDK cannot connect to one.")
		return
	}
	add("Use the " + product + " service " + sid + ".")
}

func orAny(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// Pretty indents JSON for display; anything that is not JSON is returned as
// it is, so a broken segment is still shown.
func Pretty(raw []byte) string {
	b, err := jsonlite.Indent(make([]byte, 0, 2*len(raw)), raw, "", "  ")
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// UTC formats t for the "UTC" column. The page formats local time with the
// browser's own locale.
func UTC(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return token.FormatUTC(t, " ", " UTC")
}

// NoExpiry is what ExpiresIn says of a token without exp, as the CLI does.
const NoExpiry = "never (no exp claim)"

// farAway bounds what ExpiresIn counts exactly: beyond it the answer is
// "more than a century", where time.Duration (±292 years) would saturate.
const farAway = 100 * 365 * 24 * time.Hour

// ExpiresIn formats the time from now to exp: a countdown, "expired … ago",
// NoExpiry for a zero exp, and "more than 100 years" (or ago) when the
// gap is too far for a countdown to mean anything.
func ExpiresIn(now, exp time.Time) string {
	switch {
	case exp.IsZero():
		return NoExpiry
	case exp.After(now.Add(farAway)):
		return "in more than 100 years"
	case exp.Before(now.Add(-farAway)):
		return "expired more than 100 years ago"
	}
	return Countdown(exp.Sub(now))
}

// Countdown formats the time left: "59m 58s", "4s", "expired 3s ago",
// "3d 04h 05m" beyond a day.
func Countdown(left time.Duration) string {
	if left <= -time.Second {
		return "expired " + client.Duration(-left) + " ago"
	}
	if left < 0 {
		return "expired"
	}
	return client.Duration(left)
}

// Offset formats a clock offset for a person: "server is 1.234 s ahead".
func Offset(off, uncertainty time.Duration) string {
	dir := "ahead of"
	if off < 0 {
		dir, off = "behind", -off
	}
	ms := off.Milliseconds()
	s := "server clock " + strconv.FormatInt(ms/1000, 10) + "." + pad3(ms%1000) + " s " + dir + " this device"
	// An offset inside its own uncertainty is no measured offset at all.
	if ms == 0 || off <= uncertainty {
		s = "server clock matches this device"
	}
	if uncertainty > 0 {
		s += " (±" + strconv.FormatInt(uncertainty.Milliseconds(), 10) + " ms)"
	}
	return s
}

func pad3(n int64) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// Progress is the fraction of the token's lifetime still left, in [0, 1].
func Progress(now, issued, exp time.Time) float64 {
	total := exp.Sub(issued)
	if total <= 0 {
		return 0
	}
	f := float64(exp.Sub(now)) / float64(total)
	switch {
	case f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

// SortedKeys returns m's keys in order, for stable display.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
