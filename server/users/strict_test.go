package users_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokenlab/tokenlab/server/users"
)

// hashOf is a cheap real bcrypt hash, for files written by hand.
func hashOf(tb testing.TB, password string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return string(h)
}

// TestLoadRefusesAmbiguousFiles: a file that encoding/json would read one
// way (the last entry wins, the rest ignored) and a person another is
// refused, naming the user and where.
func TestLoadRefusesAmbiguousFiles(t *testing.T) {
	h := hashOf(t, "pw")
	alice := func(grants string) string { return `"alice":{"bcrypt":"` + h + `","grants":` + grants + `}` }
	tests := []struct {
		name, body string
		want       []string
	}{
		{"duplicate user", `{"users":{` + alice(`["video"]`) + `,` + alice(`["*"]`) + `}}`, []string{`"alice" is listed twice`, "byte"}},
		{"duplicate user, escaped", `{"users":{` + alice(`["video"]`) + `,"\u0061lice":{"bcrypt":"` + h + `","grants":["*"]}}}`, []string{`"alice" is listed twice`}},
		{"one name in two forms", `{"users":{"jos\u00e9":{"bcrypt":"` + h + `","grants":["video"]},"jose\u0301":{"bcrypt":"` + h + `","grants":["*"]}}}`, []string{"two Unicode forms"}},
		{"duplicate users key", `{"users":{` + alice(`["video"]`) + `},"users":{` + alice(`["*"]`) + `}}`, []string{`"users" appears twice`}},
		{"duplicate grants", `{"users":{"alice":{"bcrypt":"` + h + `","grants":["video"],"grants":["*"]}}}`, []string{`"alice" has "grants" twice`}},
		{"field in another case", `{"users":{"alice":{"BCRYPT":"` + h + `","grants":["video"]}}}`, []string{`unknown field "BCRYPT"`}},
		{"top field in another case", `{"Users":{` + alice(`["video"]`) + `}}`, []string{`unknown field "Users"`}},
		{"second object", `{"users":{` + alice(`["video"]`) + `}}` + "\n" + `{"users":{` + alice(`["*"]`) + `}}`, []string{"exactly one object", "byte"}},
		{"trailing text", `{"users":{` + alice(`["video"]`) + `}} trailing`, []string{"exactly one object"}},
		{"truncated", `{"users":{` + alice(`["video"]`), []string{"ends early"}},
		{"grants of the wrong type", `{"users":{"alice":{"bcrypt":"` + h + `","grants":"*"}}}`, []string{`user "alice": grants must be a list`}},
		{"users null", `{"users":null}`, []string{`"users" must be an object`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.json")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := users.Load(path)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("Load = %v, want an error saying %q", err, w)
				}
			}
			if strings.Contains(err.Error(), h) {
				t.Errorf("the error reveals a hash: %v", err)
			}
		})
	}
}

// TestLoadRefusesFilesOthersMayWrite: whoever can write the users file can
// sign in as anyone, so the server refuses it, as ssh refuses such keys.
func TestLoadRefusesFilesOthersMayWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix mode bits")
	}
	for _, tt := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o640, true}, {0o644, true}, {0o620, false}, {0o664, false}, {0o602, false}, {0o666, false}} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.json")
			if _, err := users.Put(path, "alice", "pw", []string{"video"}, bcrypt.MinCost); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := users.Load(path)
			if tt.ok != (err == nil) {
				t.Fatalf("Load of a %v file = %v", tt.mode, err)
			}
			if !tt.ok && !strings.Contains(err.Error(), "chmod 600 "+path) {
				t.Errorf("the error does not say how to fix it: %v", err)
			}
			// useradd refuses to extend such a file too.
			if _, err := users.Put(path, "bob", "pw", []string{"video"}, bcrypt.MinCost); tt.ok != (err == nil) {
				t.Errorf("Put into a %v file = %v", tt.mode, err)
			}
		})
	}
}

// TestUsernamesAreNormalized: "é" typed composed or decomposed names one
// user, in the file, at sign-in and when useradd updates it.
func TestUsernamesAreNormalized(t *testing.T) {
	const composed, decomposed = "jos\u00e9", "jose\u0301"
	path := filepath.Join(t.TempDir(), "users.json")
	if created, err := users.Put(path, decomposed, "pw", []string{"video"}, bcrypt.MinCost); err != nil || !created {
		t.Fatal(created, err)
	}
	if created, err := users.Put(path, composed, "pw2", []string{"chat"}, bcrypt.MinCost); err != nil || created {
		t.Fatalf("Put of the other form: created=%v, %v; want an update of the same user", created, err)
	}
	f, err := users.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 1 {
		t.Fatalf("%d users, want 1", f.Len())
	}
	for _, name := range []string{composed, decomposed} {
		u, err := f.Authenticate(context.Background(), name, "pw2")
		if err != nil || u.Identity != composed {
			t.Errorf("Authenticate(%q) = %+q, %v; want identity %q", name, u.Identity, err, composed)
		}
	}
}
