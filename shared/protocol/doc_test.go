package protocol_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// docPath is the protocol's documentation, which must match this package.
const docPath = "../../docs/protocol.md"

// jsonBlock matches a ```json fenced block.
var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)\n```")

// docExamples returns every ```json example of docs/protocol.md.
func docExamples(tb testing.TB) (doc string, examples []string) {
	tb.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		tb.Fatalf("reading the protocol's documentation: %v", err)
	}
	for _, m := range jsonBlock.FindAllStringSubmatch(string(b), -1) {
		examples = append(examples, m[1])
	}
	if len(examples) == 0 {
		tb.Fatalf("%s has no ```json examples", docPath)
	}
	return string(b), examples
}

// constants returns the constants of protocol.go whose names start with
// prefix, by name, so that a constant added there needs documenting here.
func constants(tb testing.TB, prefix string) map[string]string {
	tb.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "protocol.go", nil, 0)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, prefix) || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					tb.Fatalf("%s is not a literal", name.Name)
				}
				v := lit.Value
				if lit.Kind == token.STRING {
					v, _ = strconv.Unquote(v)
				}
				out[name.Name] = v
			}
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no %s… constants in protocol.go", prefix)
	}
	return out
}

// TestDocExamplesRoundTrip decodes every example of docs/protocol.md and
// checks that encoding it again gives the same JSON: no field the
// documentation shows is unknown, misspelt or lost.
func TestDocExamplesRoundTrip(t *testing.T) {
	_, examples := docExamples(t)
	for _, ex := range examples {
		m, err := protocol.Decode([]byte(ex))
		if err != nil {
			t.Errorf("documented example does not decode: %v\n%s", err, ex)
			continue
		}
		var want, got any
		if err := json.Unmarshal([]byte(ex), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(protocol.Encode(m), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("documented example changes in a round trip:\n doc: %s\n got: %s", ex, protocol.Encode(m))
		}
		if !bytes.Equal(bytes.TrimSpace([]byte(ex)), protocol.Encode(m)) {
			t.Errorf("documented example is not in the encoder's field order:\n doc: %s\n got: %s", ex, protocol.Encode(m))
		}
	}
}

// TestDocCoversEveryType wants an example of every message type.
func TestDocCoversEveryType(t *testing.T) {
	_, examples := docExamples(t)
	seen := map[string]bool{}
	for _, ex := range examples {
		if m, err := protocol.Decode([]byte(ex)); err == nil {
			seen[m.Type] = true
		}
	}
	for name, typ := range constants(t, "Type") {
		if !seen[typ] {
			t.Errorf("docs/protocol.md has no ```json example of %s (%q)", name, typ)
		}
	}
}

// TestDocCoversEveryCode wants every close code and error code in the
// documentation's tables.
func TestDocCoversEveryCode(t *testing.T) {
	doc, examples := docExamples(t)
	for name, code := range constants(t, "Close") {
		if !regexp.MustCompile(`(?m)^\| ` + code + ` \|`).MatchString(doc) {
			t.Errorf("the close codes table of docs/protocol.md has no row for %s (%s)", name, code)
		}
	}
	// The standard codes the server sends are documented too.
	for _, code := range []string{"1001", "1003", "1009"} {
		if !regexp.MustCompile(`(?m)^\| ` + code + ` \|`).MatchString(doc) {
			t.Errorf("the close codes table has no row for %s", code)
		}
	}
	errorExamples := map[string]bool{}
	for _, ex := range examples {
		if m, err := protocol.Decode([]byte(ex)); err == nil && m.Type == protocol.TypeError {
			errorExamples[m.Code] = true
		}
	}
	for name, code := range constants(t, "ErrCode") {
		if !strings.Contains(doc, "| `"+code+"` |") {
			t.Errorf("the error codes table of docs/protocol.md has no row for %s (%q)", name, code)
		}
		if !errorExamples[code] {
			t.Errorf("docs/protocol.md has no example error message with code %q", code)
		}
	}
}
