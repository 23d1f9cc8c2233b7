package token_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/token"
)

// FuzzDecode checks that Decode never panics, that its errors are
// *DecodeError values of a known kind with a message, and that what it
// decodes survives re-encoding: the canonical base64url of the decoded
// segments decodes to the same token, and the claims' JSON is a fixpoint
// after one marshal.
func FuzzDecode(f *testing.F) {
	f.Add(tutorialToken)
	f.Add(jwt(goodHeader, goodPayload, "c2ln"))
	f.Add("Bearer " + tutorialToken)
	f.Add(jwt(`{"ALG":"x"}`, `{"Grants":{"Video":{}},"grants":{"voice":{"incoming":{"allow":false}},"player":{}}}`, "c2ln"))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := token.Decode(raw)
		if err != nil {
			if tok != nil {
				t.Fatalf("Decode returned a token and an error %v", err)
			}
			var de *token.DecodeError
			if !errors.As(err, &de) || de.Detail == "" {
				t.Fatalf("error %#v is not a *DecodeError with a detail", err)
			}
			known := false
			for _, k := range []error{token.ErrNotJWT, token.ErrBadHeader, token.ErrBadPayload, token.ErrBadSig} {
				known = known || errors.Is(err, k)
			}
			if !known {
				t.Fatalf("error %v wraps no known kind", err)
			}
			return
		}
		enc := base64.RawURLEncoding.EncodeToString
		again, err := token.Decode(enc(tok.HeaderJSON) + "." + enc(tok.PayloadJSON) + "." + enc(tok.Signature))
		if err != nil {
			t.Fatalf("re-encoded token does not decode: %v", err)
		}
		if !reflect.DeepEqual(again.Header, tok.Header) || !reflect.DeepEqual(again.Claims, tok.Claims) ||
			!bytes.Equal(again.Signature, tok.Signature) || !bytes.Equal(again.PayloadJSON, tok.PayloadJSON) {
			t.Fatalf("re-encoded token decodes differently:\n %+v\n %+v", again, tok)
		}
		m1, err := json.Marshal(tok.Claims)
		if err != nil {
			t.Fatalf("Marshal(claims): %v", err)
		}
		var c2 token.Claims
		if err := json.Unmarshal(m1, &c2); err != nil {
			t.Fatalf("Unmarshal(Marshal(claims)) = %v for %s", err, m1)
		}
		if m2, _ := json.Marshal(c2); !bytes.Equal(m1, m2) {
			t.Fatalf("claims JSON is not stable:\n %s\n %s", m1, m2)
		}
	})
}

// FuzzRoundTrip builds tokens from arbitrary field values, as a minting
// server would, and checks that Decode returns exactly those values.
func FuzzRoundTrip(f *testing.F) {
	f.Add("JWT", "HS256", "twilio-fpa;v=1", "", "SK00000000000000000000000000000000-1610379747", "SK00000000000000000000000000000000", "AC00000000000000000000000000000000", int64(1610383347), int64(1610379747), "susan", "My Room", []byte{1, 2, 3})
	f.Add("", "", "", "ie1", "", "", "", int64(-1), int64(0), "é\u2028<&>", "\x00\xff", []byte{})
	f.Fuzz(func(t *testing.T, typ, alg, cty, twr, jti, iss, sub string, exp, nbf int64, identity, room string, sig []byte) {
		h := token.Header{Typ: typ, Alg: alg, Cty: cty, Twr: twr}
		c := token.Claims{JTI: jti, Iss: iss, Sub: sub, Exp: exp, Nbf: nbf, Grants: token.Grants{Identity: identity, Video: &token.VideoGrant{Room: room}}}
		hj, err1 := json.Marshal(h)
		cj, err2 := json.Marshal(c)
		if err1 != nil || err2 != nil {
			t.Fatalf("marshal: %v %v", err1, err2)
		}
		// encoding/json replaces invalid UTF-8 with U+FFFD: compare with
		// what a JSON round trip of the same values gives.
		var wantH token.Header
		var wantC token.Claims
		if err := json.Unmarshal(hj, &wantH); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(cj, &wantC); err != nil {
			t.Fatal(err)
		}
		// Each field on its own: two invalid halves in neighbouring fields
		// ("\xc4" and "\xb8") make valid UTF-8 once concatenated.
		valid := true
		for _, v := range []string{typ, alg, cty, twr, jti, iss, sub, identity, room} {
			valid = valid && utf8.ValidString(v) && !strings.ContainsRune(v, '\uFFFD')
		}
		if valid && (wantH != h || !reflect.DeepEqual(wantC, c)) {
			t.Fatalf("JSON changed valid values: %+v %+v", wantH, wantC)
		}
		enc := base64.RawURLEncoding.EncodeToString
		sigPart := enc(sig)
		tok, err := token.Decode(enc(hj) + "." + enc(cj) + "." + sigPart)
		if len(sig) == 0 {
			if !errors.Is(err, token.ErrBadSig) {
				t.Fatalf("empty signature: err = %v, want ErrBadSig", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Decode: %v\nheader %s\npayload %s", err, hj, cj)
		}
		if tok.Header != wantH || !reflect.DeepEqual(tok.Claims, wantC) || !bytes.Equal(tok.Signature, sig) {
			t.Fatalf("Decode =\n %+v\n %+v\nwant\n %+v\n %+v", tok.Header, tok.Claims, wantH, wantC)
		}
	})
}

// FuzzParseGrantsStrict checks that the strict parse never panics, that it
// fails exactly when CheckGrants reports a problem, that every problem names
// a field under "grants" and says what is wrong, and that accepted grants
// marshal (as minted) to JSON that the strict parse accepts again unchanged.
func FuzzParseGrantsStrict(f *testing.F) {
	f.Add([]byte(`{"identity":"alice","video":{"room":"r"}}`))
	f.Add([]byte(`{"voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"AP00000000000000000000000000000004","params":{"a":1}}}}`))
	f.Add([]byte(`{"voice":{"outgoing":{"params":{"a":1}}}}`))
	f.Add([]byte(`{"Video":{"Room":"x"},"sync":{}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"player":{},"rtc":{"configuration_profile_sid":"CP00000000000000000000000000000007"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := token.ParseGrantsStrict(data)
		_, problems := token.CheckGrants(data)
		if (err == nil) != (len(problems) == 0) {
			t.Fatalf("ParseGrantsStrict = %v but CheckGrants found %d problems", err, len(problems))
		}
		for _, p := range problems {
			if p.Field != "grants" && !strings.HasPrefix(p.Field, "grants.") || p.Problem == "" || !errors.Is(p, token.ErrInvalid) {
				t.Fatalf("problem %#v should name a grants field, say what is wrong and wrap ErrInvalid", p)
			}
		}
		if err != nil {
			if !reflect.DeepEqual(g, token.Grants{}) {
				t.Fatalf("grants %+v returned with error %v", g, err)
			}
			return
		}
		minted, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("Marshal(accepted grants): %v", err)
		}
		g2, err := token.ParseGrantsStrict(minted)
		if err != nil {
			t.Fatalf("minted grants %s are refused: %v", minted, err)
		}
		if again, _ := json.Marshal(g2); !bytes.Equal(again, minted) {
			t.Fatalf("minted grants change on a second pass:\n %s\n %s", minted, again)
		}
	})
}
