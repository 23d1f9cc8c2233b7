package view

import (
	"bytes"
	"encoding/json"
	"strings"

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
	var player json.RawMessage
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
			var obj map[string]any
			if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
				return nil, &token.FieldError{Field: playerPath, Problem: "must be a JSON object, as Twilio's API returns it"}
			}
			player = raw
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
		out[token.KeyPlayer] = player
	}
	return json.Marshal(out)
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
