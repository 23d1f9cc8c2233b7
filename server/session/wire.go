package session

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/token"
)

// decodeWire reads a sealed payload. Every renewal and every WebSocket
// upgrade opens a cookie, and encoding/json's reflective decoding was
// four fifths of that (BenchmarkOpen's profile). Seal's own output, fields
// in declaration order and strings without escapes, is read here by hand;
// anything else (an escaped string, a voice or player grant, an older
// layout) goes to encoding/json. wire_test.go checks that both agree on
// every payload the fast reader accepts.
//
// The reader works on one string copy of the payload, and the strings it
// returns are slices of it: one allocation for all of a session's strings.
func decodeWire(data []byte) (wire, error) {
	var w wire
	if r := (reader{s: string(data)}); r.wire(&w) {
		return w, nil
	}
	return decodeWireJSON(data)
}

// decodeWireJSON is the slow path, in a function of its own so that its
// wire, which escapes through json.Unmarshal, costs an allocation only here.
func decodeWireJSON(data []byte) (wire, error) {
	var w wire
	err := json.Unmarshal(data, &w)
	return w, err
}

// reader consumes JSON exactly as json.Marshal writes a wire; each method
// reports false at the first byte it does not expect.
type reader struct {
	s string
	i int
}

func (r *reader) lit(s string) bool {
	if len(r.s)-r.i < len(s) || r.s[r.i:r.i+len(s)] != s {
		return false
	}
	r.i += len(s)
	return true
}

// str reads a string that needs no unescaping: no backslash, no control
// byte, valid UTF-8, so its bytes are its value.
func (r *reader) str(dst *string) bool {
	if !r.lit(`"`) {
		return false
	}
	start := r.i
	for ; r.i < len(r.s); r.i++ {
		switch c := r.s[r.i]; {
		case c == '"':
			s := r.s[start:r.i]
			r.i++
			if !utf8.ValidString(s) {
				return false
			}
			*dst = s
			return true
		case c == '\\' || c < 0x20:
			return false
		}
	}
	return false
}

// int reads an integer as json.Marshal writes an int64.
func (r *reader) int(dst *int64) bool {
	start := r.i
	if r.i < len(r.s) && r.s[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.s) && '0' <= r.s[r.i] && r.s[r.i] <= '9' {
		r.i++
	}
	if r.i == digits || (r.s[digits] == '0' && r.i-digits > 1) {
		return false // no digits, or a leading zero JSON does not allow
	}
	n, err := strconv.ParseInt(r.s[start:r.i], 10, 64)
	*dst = n
	return err == nil
}

func (r *reader) wire(w *wire) bool {
	ok := r.lit(`{"i":`) && r.str(&w.ID) && r.lit(`,"u":`) && r.str(&w.Identity) &&
		r.lit(`,"p":`) && r.str(&w.Credential) && r.lit(`,"g":`) && r.grants(&w.Grants) &&
		r.lit(`,"t":`) && r.int(&w.TTL) && r.lit(`,"c":`) && r.int(&w.Created) && r.lit(`,"e":`) && r.int(&w.Expires) &&
		r.lit(`}`)
	return ok && r.i == len(r.s)
}

// members reads the optional string members of one object, in order:
// keys[k] fills dst[k] when present.
func (r *reader) members(keys []string, dst []*string) bool {
	if !r.lit(`{`) {
		return false
	}
	first := true
	for k, key := range keys {
		if r.key(key, first) {
			if !r.str(dst[k]) {
				return false
			}
			first = false
		}
	}
	return r.lit(`}`)
}

// key consumes `"key":` (after a comma unless first) when it comes next.
func (r *reader) key(key string, first bool) bool {
	save := r.i
	if (first || r.lit(`,`)) && r.lit(`"`) && r.lit(key) && r.lit(`":`) {
		return true
	}
	r.i = save
	return false
}

// grants reads the grants whose members are all strings; voice and player
// (nested and free-form values) are left to encoding/json.
func (r *reader) grants(g *sealedGrants) bool {
	if !r.lit(`{`) {
		return false
	}
	first := true
	if r.key(token.KeyIdentity, first) {
		if !r.str(&g.Identity) {
			return false
		}
		first = false
	}
	if r.key(token.KeyVideo, first) {
		g.Video = &token.VideoGrant{}
		if !r.members([]string{"room"}, []*string{&g.Video.Room}) {
			return false
		}
		first = false
	}
	for _, c := range []struct {
		key string
		dst **token.ChatGrant
	}{{token.KeyChat, &g.Chat}, {token.KeyIPMessaging, &g.IPMessaging}} {
		if r.key(c.key, first) {
			v := &token.ChatGrant{}
			*c.dst = v
			if !r.members([]string{"service_sid", "endpoint_id", "deployment_role_sid", "push_credential_sid"},
				[]*string{&v.ServiceSID, &v.EndpointID, &v.DeploymentRoleSID, &v.PushCredentialSID}) {
				return false
			}
			first = false
		}
	}
	if r.key(token.KeySync, first) {
		g.Sync = &token.SyncGrant{}
		if !r.members([]string{"service_sid", "endpoint_id"}, []*string{&g.Sync.ServiceSID, &g.Sync.EndpointID}) {
			return false
		}
		first = false
	}
	if r.key(token.KeyTaskRouter, first) {
		g.TaskRouter = &token.TaskRouterGrant{}
		if !r.members([]string{"workspace_sid", "worker_sid", "role"}, []*string{&g.TaskRouter.WorkspaceSID, &g.TaskRouter.WorkerSID, &g.TaskRouter.Role}) {
			return false
		}
		first = false
	}
	if r.key(token.KeyRTC, first) {
		g.RTC = &token.RTCGrant{}
		if !r.members([]string{"configuration_profile_sid"}, []*string{&g.RTC.ConfigurationProfileSID}) {
			return false
		}
	}
	return r.lit(`}`)
}
