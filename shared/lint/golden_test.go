package lint_test

import (
	"bytes"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/shared/lint"
)

var update = flag.Bool("update", false, "rewrite testdata/check.golden from Check's findings")

// goldenHeader and goldenPayload are what a Twilio library writes.
const (
	goldenHeader  = `{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`
	goldenPayload = `{"jti":"SK21c17013f3face8fdc4e4623b0a9d2c1-1700000000","iss":"SK21c17013f3face8fdc4e4623b0a9d2c1","sub":"AC15c1737bf14064d2278d616face3f17f","nbf":1700000000,"exp":1700003600,"grants":{"identity":"alice","video":{"room":"r"}}}`
)

// goldenTokens are header and payload JSON, as written (white space,
// duplicate keys and all), chosen so that every finding Check can make
// appears at least once.
var goldenTokens = [][2]string{
	{goldenHeader, goldenPayload},
	{`{"typ":null,"alg":null,"cty":null,"twr":null}`, goldenPayload},
	{`{"typ":1,"alg":true,"cty":[],"twr":{}}`, goldenPayload},
	{`{"alg":"HS384","twr":"IE1","CTY":"x","kid":"","":1,"a\nb":2}`, goldenPayload},
	{`{"alg":"HS512","twr":"ie1","typ":"JWS","cty":"` + strings.Repeat("x", 100) + `"}`, goldenPayload},
	{`{"alg":"none","twr":"de1"}`, `{}`},
	{`{"alg":"RS256","twr":"mars"}`, `null`},
	{`{"alg":"","twr":"us1","Alg":"HS256"}`, `[]`},
	{`null`, `null`}, {`[]`, `[]`}, {`"x"`, `"y"`}, {`1`, `2`}, {`true`, `{`}, {`{`, `}`},
	{` {"alg":"HS256"} `, ` {"exp":1} `},
	{goldenHeader, `{"exp":"1","nbf":"x","iat":null,"jti":5,"iss":null,"sub":true}`},
	{goldenHeader, `{"exp":1e30,"nbf":1.5,"iat":-1,"jti":"x","iss":"AC15c1737bf14064d2278d616face3f17f","sub":"SK21c17013f3face8fdc4e4623b0a9d2c1"}`},
	{goldenHeader, `{"exp":1700003600000,"nbf":1700000000000,"iat":0,"EXP":1,"Iss":2,"identity":"a","scope":"s","aud":1,"grants":{"identity":"a"}}`},
	{goldenHeader, `{"exp":99999999999999999999,"grants":null,"jti":"SK00000000000000000000000000000000-1700000000","iss":"SK21c17013f3face8fdc4e4623b0a9d2c1"}`},
	{goldenHeader, `{"exp":1.7000036e9,"grants":[],"jti":"user-1700000000"}`},
	{goldenHeader, `{"exp":1e400,"grants":"x","sub":"AC-x","iss":"SK123"}`},
	{goldenHeader, `{"exp":1699999999,"nbf":1700000000,"grants":{"identity":"a"}}`},
	{goldenHeader, `{"exp":1700090000,"iat":1700000000,"grants":{"identity":" a@b ","voice":{"incoming":{"allow":false},"outgoing":{"params":{"a":1}}}}}`},
	{goldenHeader, `{"exp":1700090000,"grants":{"identity":"","data_sync":{},"chat":{"service_sid":"ZS1","endpoint_id":"` + strings.Repeat("e", 300) + `"},"ip_messaging":{},"sync":{},"task_router":{},"player":{},"rtc":{},"video":{"Room":1}}}`},
	{goldenHeader, `{"exp":1700003600,"grants":{"identity":"` + strings.Repeat("é", 300) + `","voice":{}}}`},
	{goldenHeader, `{"exp":1700003600,"grants":{"identity":42}}`},
	{goldenHeader, `{"exp":1700003600,"grants":{"identity":"a\u0007b","fax":{},"video":null}}`},
	{goldenHeader, `{"exp":1700003600,"grants":{"voice":{"outgoing":{"application_sid":"AP1"}},"data_sync":{"service_sid":"ZS00000000000000000000000000000001"}}}`},
	{goldenHeader, `{"exp":1700003600,"grants":{}}`},
	{goldenHeader, `{"exp":1700003600,"exp":"dup","grants":{"identity":"a","identity":null}}`},
	{goldenHeader, `{"exp":1700003600,"grants":{"video":{}},"identity":"x"}`},
	{goldenHeader, `{"exp":-0,"nbf":-0.0,"iat":0e5}`},
	{goldenHeader, `{"exp":1800000000,"jti":"x","grants":{"identity":"a","voice":{"incoming":{"allow":true}}}}`},
	{goldenHeader, `{"sub":"SK21c17013f3face8fdc4e4623b0a9d2c1","iss":"SK21c17013f3face8fdc4e4623b0a9d2c1","exp":1700003600,"grants":{"identity":"a","chat":{},"voice":{"outgoing":{}}}}`},
	{goldenHeader, `{"exp":300000000000000,"jti":"a` + strings.Repeat("é", 100) + `","` + strings.Repeat("é", 100) + `":1}`},
}

// goldenTimes are the clocks each token is read at.
var goldenTimes = []int64{1_700_000_600, 1_690_000_000, 1_600_000_000, 0, -1 << 63}

// goldenRaw are inputs that are not header and payload JSON.
var goldenRaw = []string{
	"", "hello", "a.b.c.d", `{"token":"eyJ"}`, "AC15c1737bf14064d2278d616face3f17f", "SK21c17013f3face8fdc4e4623b0a9d2c1",
	"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdeg", "e!.e30.", "e30.p*.", "e30.e30.", "e30.e30.s~g", "Bearer e30.e30." + strings.Repeat("A", 43),
	tutorialToken,
}

// TestCheckGolden compares every finding, word for word, with
// testdata/check.golden, which the encoding/json implementation wrote:
// reading JSON without reflection and writing messages without fmt must
// not change a single one. After a deliberate change of wording, run
// go test -run TestCheckGolden -update and review the diff.
func TestCheckGolden(t *testing.T) {
	var b bytes.Buffer
	write := func(label, raw string, at int64) {
		b.WriteString("== " + label + " at " + strconv.FormatInt(at, 10) + "\n")
		for _, f := range lint.Check(raw, time.Unix(at, 0)) {
			b.WriteString(f.String() + "\n")
		}
	}
	for _, tok := range goldenTokens {
		raw := enc([]byte(tok[0])) + "." + enc([]byte(tok[1])) + "." + sig32
		for _, at := range goldenTimes {
			write(strconv.Quote(tok[0])+" . "+strconv.Quote(tok[1]), raw, at)
		}
	}
	for _, raw := range goldenRaw {
		write(strconv.Quote(raw), raw, goldenTimes[0])
	}
	const path = "testdata/check.golden"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestCheckGolden -update writes it)", err)
	}
	got := b.Bytes()
	if bytes.Equal(got, want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(gotLines), len(wantLines)) {
		if gotLines[i] != wantLines[i] {
			t.Fatalf("%s:%d differs:\n got %s\nwant %s", path, i+1, gotLines[i], wantLines[i])
		}
	}
	t.Fatalf("%s has %d lines, Check gave %d", path, len(wantLines), len(gotLines))
}
