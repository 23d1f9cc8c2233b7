package token

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// FuzzDecodeAgrees checks that the hand-written decoding and encoding give
// exactly what the encoding/json code they replaced gave (oracle_test.go),
// on any input: the values, the error messages of Decode, CheckGrants and
// json.Unmarshal, and the bytes json.Marshal writes for what was decoded.
// Its seeds in testdata/fuzz/FuzzDecodeAgrees are where the two could
// most easily part: exact and folded keys, duplicates, nulls, unknown keys
// nested deep enough to make the old code rewrite an object, numbers out
// of range, raw JSON kept for unknown grants.
func FuzzDecodeAgrees(f *testing.F) {
	f.Add([]byte(`{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`))
	f.Add([]byte(`{"jti":"SK00000000000000000000000000000000-1700000000","grants":{"identity":"alice","video":{"room":"r"}},"iss":"SK00000000000000000000000000000000","exp":1700003600,"nbf":1700000000,"sub":"AC00000000000000000000000000000000"}`))
	f.Add([]byte(`{"identity":"a","sync":{"service_sid":"x"},"fax":1,"video":null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeAgrees(t, data)
	})
}

func checkDecodeAgrees(t *testing.T, data []byte) {
	t.Helper()
	// Decode's header and payload.
	var nh Header
	var oh oldHeader
	if n, o := decodeObject(data, &nh), oldDecodeObject(data, &oh); message(n) != message(o) || n == nil && nh != Header(oh) {
		t.Fatalf("header of %q: got %v %+v, want %v %+v", data, n, nh, o, oh)
	}
	var nc Claims
	var oc oldClaims
	if n, o := decodeObject(data, &nc), oldDecodeObject(data, &oc); message(n) != message(o) || n == nil && !reflect.DeepEqual(nc, newClaims(oc)) {
		t.Fatalf("claims of %q: got %v %+v, want %v %+v", data, n, nc, o, newClaims(oc))
	}

	// json.Unmarshal, which calls the UnmarshalJSON methods.
	nh, oh = Header{}, oldHeader{}
	if n, o := json.Unmarshal(data, &nh), json.Unmarshal(data, &oh); message(n) != oldMessage(o) || nh != Header(oh) {
		t.Fatalf("json.Unmarshal(%q, Header): got %v %+v, want %v %+v", data, n, nh, oldMessage(o), oh)
	}
	nc, oc = Claims{}, oldClaims{}
	claimsErr := json.Unmarshal(data, &nc)
	if o := json.Unmarshal(data, &oc); message(claimsErr) != oldMessage(o) || !reflect.DeepEqual(nc, newClaims(oc)) {
		t.Fatalf("json.Unmarshal(%q, Claims): got %v %+v, want %v %+v", data, claimsErr, nc, oldMessage(o), newClaims(oc))
	}
	var ng Grants
	var og oldGrants
	if n, o := json.Unmarshal(data, &ng), json.Unmarshal(data, &og); message(n) != oldMessage(o) || !reflect.DeepEqual(ng, newGrants(og)) {
		t.Fatalf("json.Unmarshal(%q, Grants): got %v %+v, want %v %+v", data, n, ng, oldMessage(o), newGrants(og))
	}

	// The strict parse of a client's grants.
	cg, cp := CheckGrants(data)
	og, op := oldCheckGrants(data)
	if !reflect.DeepEqual(cg, newGrants(og)) || len(cp) != len(op) {
		t.Fatalf("CheckGrants(%q):\n got %+v %v\nwant %+v %v", data, cg, cp, newGrants(og), op)
	}
	for i := range cp {
		if *cp[i] != *op[i] {
			t.Fatalf("CheckGrants(%q) problem %d:\n got %#v\nwant %#v", data, i, *cp[i], *op[i])
		}
	}

	// What was decoded marshals as before.
	checkMarshalAgrees(t, nh, oldHeader(nh))
	if claimsErr == nil {
		checkMarshalAgrees(t, nc, toOldClaims(nc))
	}
	checkMarshalAgrees(t, cg, toOldGrants(cg))
}

// checkMarshalAgrees compares json.Marshal of a value and of its mirror,
// and the value's own MarshalJSON, if it has one, with both.
func checkMarshalAgrees(t *testing.T, v, old any) {
	t.Helper()
	got, err := json.Marshal(v)
	want, oldErr := json.Marshal(old)
	if (err == nil) != (oldErr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("json.Marshal(%T):\n got %s %v\nwant %s %v", v, got, err, want, oldErr)
	}
	if err != nil {
		return
	}
	if m, ok := v.(json.Marshaler); ok {
		if direct, err := m.MarshalJSON(); err != nil || !bytes.Equal(direct, want) {
			t.Fatalf("%T.MarshalJSON:\n got %s %v\nwant %s", v, direct, err, want)
		}
	}
}

func message(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// FuzzMarshalAgrees fills every field of the claims, grants included, with
// arbitrary strings and numbers (invalid UTF-8, HTML, line separators,
// floats of every size) and checks that json.Marshal writes the same bytes
// as before: the voice grant's MarshalJSON is now hand-written.
func FuzzMarshalAgrees(f *testing.F) {
	f.Add("alice", "My Room", "AP00000000000000000000000000000004", "k", true, 1.5, int64(1700000000))
	f.Add("<&>\u2028\u2029", "\xff\xfe", "", "\x00\x1f\"\\", false, 1e21, int64(0))
	f.Add("é", "", "x", "", true, 1e-7, int64(-1))
	f.Add("", "", "", "", false, math.Inf(1), int64(math.MaxInt64))
	f.Add("", "", "", "", false, math.NaN(), int64(math.MinInt64))
	f.Add("a", "b", "c", "d", true, math.Copysign(0, -1), int64(1))
	f.Add("a", "b", "c", "d", true, 123456789.0, int64(1))
	f.Add("a", "b", "c", "d", true, 5e-324, int64(1))
	f.Fuzz(func(t *testing.T, s1, s2, s3, key string, allow bool, n float64, i int64) {
		params := map[string]any{key: n, "s": s1, "list": []any{n, s2, nil, true, map[string]any{}}}
		g := Grants{
			Identity:    s1,
			Video:       &VideoGrant{Room: s2},
			Chat:        &ChatGrant{ServiceSID: s3, EndpointID: s1, DeploymentRoleSID: s2, PushCredentialSID: key},
			IPMessaging: &ChatGrant{},
			Sync:        &SyncGrant{ServiceSID: s2, EndpointID: s3},
			Voice: &VoiceGrant{
				Incoming: &VoiceIncoming{Allow: allow}, Outgoing: &VoiceOutgoing{ApplicationSID: s3, Params: params},
				PushCredentialSID: s1, EndpointID: s2,
			},
			TaskRouter: &TaskRouterGrant{WorkspaceSID: s1, WorkerSID: s2, Role: s3},
			Player:     map[string]any{key: map[string]any{s1: n, s2: []any{s3}}, "n": nil},
			RTC:        &RTCGrant{ConfigurationProfileSID: s3},
			Unknown:    map[string][]byte{key: []byte(`{}`)},
		}
		c := Claims{JTI: s1, Grants: g, Iss: s2, Exp: i, Nbf: i / 2, Iat: -i, Sub: s3}
		h := Header{Typ: s1, Alg: s2, Cty: s3, Twr: key}
		checkMarshalAgrees(t, h, oldHeader(h))
		checkMarshalAgrees(t, c, toOldClaims(c))
		checkMarshalAgrees(t, g, toOldGrants(g))
		checkMarshalAgrees(t, *g.Voice, oldVoiceGrant(*g.Voice))
		checkMarshalAgrees(t, Grants{}, oldGrants{})
		checkMarshalAgrees(t, Grants{Voice: &VoiceGrant{Outgoing: &VoiceOutgoing{Params: params}}, Player: map[string]any{}},
			oldGrants{Voice: &oldVoiceGrant{Outgoing: &VoiceOutgoing{Params: params}}, Player: map[string]any{}})
	})
}
