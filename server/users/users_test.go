package users_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/token"
)

// mustFile writes a users file with cheap hashes and loads it.
func mustFile(tb testing.TB) *users.File {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "users.json")
	for _, u := range []struct {
		name, password string
		grants         []string
	}{
		{"susan", "secret", []string{"video", "chat"}},
		{"root", "hunter2", []string{"*"}},
	} {
		if _, err := users.Put(path, u.name, u.password, u.grants, bcrypt.MinCost); err != nil {
			tb.Fatal(err)
		}
	}
	f, err := users.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestFileAuthenticate(t *testing.T) {
	f := mustFile(t)
	tests := []struct {
		name, user, password string
		wantErr              error
	}{
		{"right password", "susan", "secret", nil},
		{"wrong password", "susan", "Secret", users.ErrBadCredentials},
		{"empty password", "susan", "", users.ErrBadCredentials},
		{"unknown user", "mallory", "secret", users.ErrBadCredentials},
		{"username case matters", "Susan", "secret", users.ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := f.Authenticate(context.Background(), tt.user, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate = %+v, %v; want %v", u, err, tt.wantErr)
			}
			if err == nil && (u.Identity != "susan" || strings.Join(u.AllowedGrants, ",") != "video,chat") {
				t.Errorf("user = %+v", u)
			}
		})
	}
}

// TestUnknownUsersCostLikeRealOnes checks the dummy hashes: with real users
// of different costs, an unknown username costs one of the real costs,
// always the same one for a name, and the unknown names' costs spread like
// the real users'; a single dummy at the dearest cost would set the cheap
// users apart (asserted on the work done, not on wall-clock time).
func TestUnknownUsersCostLikeRealOnes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	for _, u := range []struct {
		name string
		cost int
	}{{"ann", bcrypt.MinCost}, {"bob", bcrypt.MinCost}, {"cat", bcrypt.MinCost + 2}, {"dan", bcrypt.MinCost + 2}} {
		if _, err := users.Put(path, u.name, "secret", []string{"video"}, u.cost); err != nil {
			t.Fatal(err)
		}
	}
	f, err := users.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	const names = 400
	seen := map[int]int{}
	for i := range names {
		name := fmt.Sprint("ghost", i)
		c := users.DummyCost(f, name)
		if c != users.DummyCost(f, name) {
			t.Fatalf("%s got two different costs", name)
		}
		seen[c]++
	}
	if len(seen) != 2 {
		t.Fatalf("unknown users' costs %v, want both real costs %d and %d", seen, bcrypt.MinCost, bcrypt.MinCost+2)
	}
	for c, n := range seen {
		// Half the real users have each cost; allow a wide margin for
		// the hash's spread over 400 names.
		if n < names*3/10 || n > names*7/10 {
			t.Errorf("cost %d given to %d of %d unknown names, want about half like the real users", c, n, names)
		}
	}
}

// A hash outside the accepted costs is refused by name before any bcrypt
// work: a cost-31 hash would otherwise keep start-up busy for years.
func TestLoadRefusesCostsOutsideTheRange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.json")
	if _, err := users.Put(path, "susan", "secret", []string{"video"}, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cost := range []string{"15", "31"} {
		t.Run("cost "+cost, func(t *testing.T) {
			p := filepath.Join(dir, "users-"+cost+".json")
			bad := strings.Replace(string(good), fmt.Sprintf("$%02d$", bcrypt.MinCost), "$"+cost+"$", 1)
			if err := os.WriteFile(p, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := users.Load(p); done <- err }()
			select {
			case err := <-done:
				for _, want := range []string{`"susan"`, "cost " + cost, fmt.Sprint(users.MaxCost), "useradd"} {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("Load = %v, want an error naming %s", err, want)
					}
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Load still hashing after 20 s: the cost was not checked first")
			}
		})
	}
	if _, err := users.Put(path, "bob", "pw", []string{"video"}, users.MaxCost+1); err == nil || !strings.Contains(err.Error(), "cost") {
		t.Errorf("Put at cost %d = %v, want refused", users.MaxCost+1, err)
	}
}

// TestEveryRefusalComparesOnce counts the password comparisons: an
// unknown user, a wrong password, an empty password and the right one each
// cost exactly one bcrypt comparison, against a hash of the same cost, so
// the time of an answer cannot tell whether a username exists.
func TestEveryRefusalComparesOnce(t *testing.T) {
	f := mustFile(t)
	realCost, _ := bcrypt.Cost(users.HashOf(f, "susan"))
	tests := []struct{ name, user, password string }{
		{"right password", "susan", "secret"},
		{"wrong password", "susan", "wrong"},
		{"empty password", "susan", ""},
		{"unknown user", "mallory", "secret"},
		{"unknown user, empty password", "mallory", ""},
		{"overlong password", "susan", strings.Repeat("p", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			var cost int
			users.SetCompare(f, func(hash, pw []byte) error {
				calls++
				cost, _ = bcrypt.Cost(hash)
				return bcrypt.CompareHashAndPassword(hash, pw)
			})
			f.Authenticate(context.Background(), tt.user, tt.password)
			if calls != 1 {
				t.Errorf("%d comparisons, want exactly 1", calls)
			}
			if cost != realCost {
				t.Errorf("compared against a hash of cost %d, want %d like the real users'", cost, realCost)
			}
		})
	}
}

func TestOpenDemo(t *testing.T) {
	var a users.Authenticator = users.OpenDemo{}
	u, err := a.Authenticate(context.Background(), "anyone", "anything")
	if err != nil || u.Identity != "anyone" {
		t.Fatalf("got %+v, %v", u, err)
	}
	if err := u.Allows(token.Grants{Voice: &token.VoiceGrant{}, Chat: &token.ChatGrant{}}); err != nil {
		t.Errorf("demo users get every grant: %v", err)
	}
	for _, c := range [][2]string{{"", "x"}, {"x", ""}} {
		if _, err := a.Authenticate(context.Background(), c[0], c[1]); !errors.Is(err, users.ErrBadCredentials) {
			t.Errorf("%q/%q: %v", c[0], c[1], err)
		}
	}
}

func TestAllows(t *testing.T) {
	u := users.User{Identity: "susan", AllowedGrants: []string{"video", "chat"}}
	if err := u.Allows(token.Grants{Video: &token.VideoGrant{}, Chat: &token.ChatGrant{}}); err != nil {
		t.Errorf("video+chat: %v", err)
	}
	err := u.Allows(token.Grants{Video: &token.VideoGrant{}, Voice: &token.VoiceGrant{}})
	var ge *users.GrantError
	if !errors.Is(err, users.ErrGrantNotAllowed) || !errors.As(err, &ge) || ge.Key != "voice" {
		t.Fatalf("voice: %v", err)
	}
	if !strings.Contains(err.Error(), `"voice"`) {
		t.Errorf("message should name the grant: %v", err)
	}
	if err := (users.User{AllowedGrants: []string{"*"}}).Allows(token.Grants{Player: map[string]any{"a": 1}}); err != nil {
		t.Errorf("*: %v", err)
	}
}

func TestPutUpdatesAndKeepsOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	if created, err := users.Put(path, "susan", "one", []string{"video"}, bcrypt.MinCost); err != nil || !created {
		t.Fatalf("first Put: %v %v", created, err)
	}
	if _, err := users.Put(path, "bob", "two", []string{"chat"}, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if created, err := users.Put(path, "susan", "three", []string{"video", "voice"}, bcrypt.MinCost); err != nil || created {
		t.Fatalf("update: %v %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "three") {
		t.Error("password stored in clear")
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || len(raw["users"]) != 2 {
		t.Fatalf("file: %s", data)
	}
	f, err := users.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := f.Authenticate(ctx, "susan", "one"); err == nil {
		t.Error("old password still works")
	}
	if u, err := f.Authenticate(ctx, "susan", "three"); err != nil || strings.Join(u.AllowedGrants, ",") != "video,voice" {
		t.Errorf("susan: %+v %v", u, err)
	}
	if _, err := f.Authenticate(ctx, "bob", "two"); err != nil {
		t.Errorf("bob lost: %v", err)
	}
}

func TestPutRejects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	tests := []struct {
		name, user, password string
		grants               []string
		want                 string
	}{
		{"empty name", "", "p", []string{"video"}, "username"},
		{"control character", "a\tb", "p", []string{"video"}, "username"},
		{"no grants", "a", "p", nil, "grants is empty"},
		{"unknown grant", "a", "p", []string{"fax"}, `"fax"`},
		{"empty password", "a", "", []string{"video"}, "password is empty"},
		{"password over bcrypt's limit", "a", strings.Repeat("p", 73), []string{"video"}, "at most 72"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := users.Put(path, tt.user, tt.password, tt.grants, bcrypt.MinCost)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Put = %v, want an error saying %q", err, tt.want)
			}
			if _, statErr := os.Stat(path); statErr == nil {
				t.Error("a refused Put wrote the file")
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "TOKENLAB_USERS_FILE"},
		{"not JSON", write("a.json", "susan:secret"), "not valid"},
		{"unknown field", write("b.json", `{"users":{"s":{"bcrypt":"x","grants":["video"],"admin":true}}}`), "admin"},
		{"empty", write("c.json", `{"users":{}}`), "no users"},
		{"bad hash", write("d.json", `{"users":{"s":{"bcrypt":"plaintext","grants":["video"]}}}`), "not a bcrypt hash"},
		{"bad grant", write("e.json", `{"users":{"s":{"bcrypt":"x","grants":["fax"]}}}`), `"fax"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := users.Load(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// A reload that meets a hash outside the accepted costs refuses it at
// once and keeps the last good users in force.
func TestReloadRefusesCostsOutsideTheRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	if _, err := users.Put(path, "susan", "secret", []string{"video"}, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	live, err := users.Watch(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), fmt.Sprintf("$%02d$", bcrypt.MinCost), "$31$", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	go func() { done <- live.Reload() }()
	select {
	case changed := <-done:
		if changed {
			t.Error("a file with a cost-31 hash was put in force")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Reload still hashing after 20 s: the cost was not checked first")
	}
	if _, err := live.Authenticate(context.Background(), "susan", "secret"); err != nil {
		t.Errorf("the last good users are no longer in force: %v", err)
	}
}
