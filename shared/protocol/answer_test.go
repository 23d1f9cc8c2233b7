package protocol_test

import (
	"encoding/json"
	"testing"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

var answerBodies = []string{
	`{"token":"abc"}`, ` {"token" : "abc"} `, `{"token":""}`, `{"token":null}`, `{"token":5}`, `{"token":"a","token":"b"}`,
	`{"token":"a","token":null}`, `{"token":"a","token":7}`, `{"TOKEN":"x"}`, `{"Token":"x","token":"y"}`, `{"toKen":"\u00e9"}`,
	`{"token":"a\ud800b"}`, `{"token":"x","other":[1,{"token":"y"}]}`, `{}`, `null`, `[]`, `"token"`, `1`, ``, `{`, `{"token":"a"} x`,
	`{"error":{"code":"unauthorized","message":"sign in","field":""}}`, `{"error":{"code":"invalid_field","message":"m","field":"grants.video.room"}}`,
	`{"error":{"code":""}}`, `{"error":null}`, `{"error":"boom"}`, `{"error":{"code":5}}`, `{"error":{"code":"c","message":5}}`,
	`{"error":{"code":"c"},"error":{"message":"m"}}`, `{"ERROR":{"CODE":"c","Field":"f"}}`, `{"error":{"code":"c","extra":{}}}`,
	`{"error":{"code":"c"},"error":null}`, `{"error":{"code":"c"},"error":[]}`,
	`{"valid":true,"reason":""}`, `{"valid":false,"reason":"bad signature"}`, `{"valid":"true"}`, `{"valid":1}`, `{"valid":null,"reason":null}`,
	`{"Valid":true,"REASON":"r"}`, `{"valid":true,"valid":false}`, `{"reason":["x"]}`,
	`{"token":"t","identity":"alice","jti":"j","expires_at":1700000000,"ttl":3600}`, `{"token":"t","expires_at":1.5}`,
	`{"token":"t","ttl":99999999999999999999}`, `{"token":"t","expires_at":"1"}`, `{"valid":true,"expired":true}`, `{"expired":"no"}`,
}

// FuzzAnswers checks that the Parse functions read no answer encoding/json
// would refuse into the same types, and that what they read is what
// encoding/json reads: they are stricter (exact keys, each once), never
// different.
func FuzzAnswers(f *testing.F) {
	for _, b := range answerBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkAnswers(t, body) })
}

func checkAnswers(t *testing.T, body []byte) {
	t.Helper()
	var ta protocol.TokenAnswer
	jsonOK := json.Unmarshal(body, &ta) == nil
	if got, ok := protocol.ParseTokenAnswer(body); ok && (!jsonOK || got != ta) {
		t.Errorf("ParseTokenAnswer(%q) = %+v; json.Unmarshal gives %+v, %v", body, got, ta, jsonOK)
	}
	var e protocol.ErrorAnswer
	jsonOK = json.Unmarshal(body, &e) == nil
	if got, ok := protocol.ParseErrorAnswer(body); ok && (!jsonOK || got != e.Error) {
		t.Errorf("ParseErrorAnswer(%q) = %+v; json.Unmarshal gives %+v, %v", body, got, e.Error, jsonOK)
	}
	var v protocol.VerifyAnswer
	jsonOK = json.Unmarshal(body, &v) == nil
	if got, ok := protocol.ParseVerifyAnswer(body); ok && (!jsonOK || got != v) {
		t.Errorf("ParseVerifyAnswer(%q) = %+v; json.Unmarshal gives %+v, %v", body, got, v, jsonOK)
	}
}

// TestAnswersStrict pins what the page accepts of the server's answers.
func TestAnswersStrict(t *testing.T) {
	for _, tt := range []struct {
		body string
		want bool
	}{
		{`{"token":"abc","identity":"alice","ttl":3600}`, true},
		{`{"token":"abc"}`, true},
		{`{"token":""}`, false},
		{`{"TOKEN":"abc"}`, false},
		{`{"Token":"x","token":"y"}`, false}, // "Token" would be read as "token" elsewhere
		{`{"token":"x","other":{"Token":1}}`, true},
		{`{"token":"a","token":"b"}`, false},
		{`{"token":5}`, false},
		{`null`, false},
		{`{"token":"a"} x`, false},
	} {
		if _, ok := protocol.ParseTokenAnswer([]byte(tt.body)); ok != tt.want {
			t.Errorf("ParseTokenAnswer(%s) ok = %v, want %v", tt.body, ok, tt.want)
		}
	}
	for _, tt := range []struct {
		body string
		want bool
	}{
		{`{"error":{"code":"unauthorized","message":"sign in"}}`, true},
		{`{"error":{"code":"c","extra":{}}}`, true},
		{`{"error":{"code":"c"},"error":{"message":"m"}}`, false},
		{`{"error":{"code":"c","code":"d"}}`, false},
		{`{"ERROR":{"CODE":"c"}}`, false},
		{`{"error":"boom"}`, false},
	} {
		if _, ok := protocol.ParseErrorAnswer([]byte(tt.body)); ok != tt.want {
			t.Errorf("ParseErrorAnswer(%s) ok = %v, want %v", tt.body, ok, tt.want)
		}
	}
	for _, tt := range []struct {
		body string
		want bool
	}{
		{`{"valid":true,"reason":""}`, true},
		{`{"valid":true,"valid":false}`, false},
		{`{"Valid":true}`, false},
		{`{"valid":"true"}`, false},
	} {
		if _, ok := protocol.ParseVerifyAnswer([]byte(tt.body)); ok != tt.want {
			t.Errorf("ParseVerifyAnswer(%s) ok = %v, want %v", tt.body, ok, tt.want)
		}
	}
}
