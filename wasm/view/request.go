package view

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Input is one control of the grant builder. Its Name is the JSON path the
// server uses in its error "field" ("grants.voice.outgoing.application_sid"),
// so an error lands beside the control it concerns. A checkbox named after a
// grant alone ("grants.voice") says whether that grant is asked for.
type Input struct {
	Name     string
	Value    string
	Checkbox bool
	Checked  bool
}

// playerPath is the one control that holds raw JSON rather than a value.
const playerPath = "grants." + token.KeyPlayer

// BuildGrants returns the "grants" object of a sign-in request holding
// exactly the grants whose checkbox is ticked, each with its non-empty
// fields, or nil when none is. A ticked checkbox inside a grant becomes
// true; an unticked one is left out, as Twilio's libraries do. The page
// checks only what it must to build JSON (the player grant is raw JSON);
// SIDs are checked by the server, whose errors name the control.
func BuildGrants(inputs []Input) ([]byte, error) {
	grants := map[string]map[string]any{}
	var player *jsonlite.Value
	for _, in := range inputs {
		key, ok := strings.CutPrefix(in.Name, "grants.")
		if !ok || strings.Contains(key, ".") || !in.Checkbox || !in.Checked {
			continue
		}
		grants[key] = map[string]any{}
	}
	for _, in := range inputs {
		if in.Name == playerPath+".json" {
			if _, on := grants[token.KeyPlayer]; !on {
				continue
			}
			raw := bytes.TrimSpace([]byte(in.Value))
			if len(raw) == 0 {
				raw = []byte("{}")
			}
			v, err := jsonlite.Parse(raw)
			if err != nil || v.Kind != jsonlite.Object {
				return nil, &token.FieldError{Field: playerPath, Problem: "must be a JSON object, as Twilio's API returns it"}
			}
			player = &v
			continue
		}
		rest, ok := strings.CutPrefix(in.Name, "grants.")
		if !ok {
			continue
		}
		key, path, nested := strings.Cut(rest, ".")
		g, on := grants[key]
		if !nested || !on {
			continue
		}
		var v any
		switch {
		case in.Checkbox && in.Checked:
			v = true
		case !in.Checkbox && strings.TrimSpace(in.Value) != "":
			v = strings.TrimSpace(in.Value)
		default:
			continue
		}
		setPath(g, strings.Split(path, "."), v)
	}
	if len(grants) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(grants))
	for k, g := range grants {
		out[k] = g
	}
	if player != nil {
		out[token.KeyPlayer] = *player // written compacted, as a json.RawMessage
	}
	return jsonlite.AppendAny(nil, out)
}

func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// FieldFor returns, among names, the control an error about field belongs
// to: the exact name, else the longest name that is a path prefix of it
// ("grants.voice" for "grants.voice.params"), else "".
func FieldFor(field string, names []string) string {
	best := ""
	for _, n := range names {
		if n == field {
			return n
		}
		if strings.HasPrefix(field, n+".") && len(n) > len(best) {
			best = n
		}
	}
	return best
}

// SignInBody is the body of POST /token, written as json.Marshal writes
// struct{Username, Password string; TTL *int64 `json:",omitempty"`;
// Grants json.RawMessage `json:",omitempty"`} with the lower-case names:
// ttl is left out when nil, grants when empty. grants is BuildGrants'
// output.
func SignInBody(username, password string, ttl *int64, grants []byte) []byte {
	b := make([]byte, 0, 64+len(username)+len(password)+len(grants))
	b = append(b, `{"username":`...)
	b = jsonlite.AppendString(b, username)
	b = append(b, `,"password":`...)
	b = jsonlite.AppendString(b, password)
	if ttl != nil {
		b = append(b, `,"ttl":`...)
		b = strconv.AppendInt(b, *ttl, 10)
	}
	if len(grants) > 0 {
		b = append(b, `,"grants":`...)
		b, _ = jsonlite.AppendAny(b, jsonlite.Value{Kind: jsonlite.Object, Raw: grants}) // a Value never fails
	}
	return append(b, '}')
}

// VerifyBody is the body of POST /token/verify: {"token": raw}.
func VerifyBody(raw string) []byte {
	return append(jsonlite.AppendString(append(make([]byte, 0, len(raw)+16), `{"token":`...), raw), '}')
}
