// Package users checks who may sign in and which grants each user may ask
// for. Users live in a JSON file of bcrypt hashes, written by
// `tokenlab useradd`; without a file the server runs in an explicit open
// demo mode where any non-empty username and password sign in.
package users

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokenlab/tokenlab/shared/token"
)

// AllGrants in a policy allows every grant.
const AllGrants = "*"

// Errors checked with errors.Is.
var (
	// ErrBadCredentials covers an unknown user and a wrong password alike,
	// so that a caller cannot tell which usernames exist.
	ErrBadCredentials = errors.New("wrong username or password")
	// ErrGrantNotAllowed is wrapped by *GrantError.
	ErrGrantNotAllowed = errors.New("grant not allowed for this user")
)

// User is a signed-in user.
type User struct {
	// Identity goes into the token's grants.identity.
	Identity string
	// AllowedGrants lists the grant keys (token.KeyVideo…) the user may ask
	// for, or AllGrants.
	AllowedGrants []string
	// Credential stands for the password the user signed in with (a
	// fingerprint of its hash, see credential.go), so that a session can
	// tell when the password changes; empty in open demo mode.
	Credential string
}

// GrantError names a grant the user may not have.
type GrantError struct {
	Identity string
	Key      string // e.g. "voice"
}

func (e *GrantError) Error() string {
	return fmt.Sprintf("%s may not be given the %q grant", e.Identity, e.Key)
}
func (e *GrantError) Unwrap() error { return ErrGrantNotAllowed }

// Allows returns a *GrantError for the first grant in g outside the user's
// policy, or nil.
func (u User) Allows(g token.Grants) error {
	if slices.Contains(u.AllowedGrants, AllGrants) {
		return nil
	}
	for _, key := range g.Keys() {
		if !slices.Contains(u.AllowedGrants, key) {
			return &GrantError{Identity: u.Identity, Key: key}
		}
	}
	return nil
}

// Authenticator checks a username and password, and later whether a
// session it let in is still granted.
type Authenticator interface {
	// Authenticate returns the user, or an error wrapping ErrBadCredentials.
	Authenticate(ctx context.Context, username, password string) (User, error)
	Checker
}

// OpenDemo signs in anyone with a non-empty username and password, as that
// identity, with every grant allowed. It exists so that the tutorial works
// with no setup; the server says so loudly when it uses it.
type OpenDemo struct{}

// Authenticate implements Authenticator.
func (OpenDemo) Authenticate(_ context.Context, username, password string) (User, error) {
	if username == "" || password == "" {
		return User{}, ErrBadCredentials
	}
	return User{Identity: Normalize(username), AllowedGrants: []string{AllGrants}}, nil
}

// fileFormat is the users file:
//
//	{"users": {"susan": {"bcrypt": "$2a$10$…", "grants": ["video", "chat"]}}}
type fileFormat struct {
	Users map[string]entry `json:"users"`
}

type entry struct {
	Bcrypt string   `json:"bcrypt"`
	Grants []string `json:"grants"`
}

// File authenticates against a users file loaded into memory.
type File struct {
	path  string
	users map[string]entry
	// dummies are compared when the user is unknown, so that an unknown
	// user costs what a real one does (dummy.go).
	dummies dummies
	// compare checks a password against a hash: bcrypt, or a counting
	// stand-in in tests.
	compare func(hash, password []byte) error
}

// Load reads and checks the users file at path.
func Load(path string) (*File, error) {
	f, err := read(path)
	if err != nil {
		return nil, err
	}
	if len(f.Users) == 0 {
		return nil, fmt.Errorf("users file %s has no users: add one with `tokenlab useradd --file %s NAME`", path, path)
	}
	costs := make([]int, 0, len(f.Users)) // in name order
	for _, name := range sortedNames(f.Users) {
		c, err := bcrypt.Cost([]byte(f.Users[name].Bcrypt))
		if err != nil {
			return nil, fmt.Errorf("users file %s: user %q: bcrypt is not a bcrypt hash: reset it with `tokenlab useradd --file %s %s`", path, name, path, name)
		}
		// Checked before any hashing: a cost-31 hash would otherwise take
		// years to compare, or to match with a dummy.
		if c < MinCost || c > MaxCost {
			return nil, fmt.Errorf("users file %s: user %q: bcrypt cost %d is outside %d to %d: reset the password with `tokenlab useradd --file %s --cost %d %s`",
				path, name, c, MinCost, MaxCost, path, bcrypt.DefaultCost, name)
		}
		costs = append(costs, c)
	}
	d, err := newDummies(f.Users, costs)
	if err != nil {
		return nil, err
	}
	return &File{path: path, users: f.Users, dummies: d, compare: bcrypt.CompareHashAndPassword}, nil
}

// read parses and validates a users file without hashing anything.
func read(path string) (fileFormat, error) {
	var f fileFormat
	if err := checkMode(path); err != nil {
		return f, err
	}
	data, err := readBounded(path)
	if err != nil {
		return f, err
	}
	if f, err = parse(path, data); err != nil {
		return f, err
	}
	for _, name := range sortedNames(f.Users) {
		if err := CheckUsername(name); err != nil {
			return f, fmt.Errorf("users file %s: %w", path, err)
		}
		if err := CheckGrants(f.Users[name].Grants); err != nil {
			return f, fmt.Errorf("users file %s: user %q: %w", path, name, err)
		}
	}
	return f, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Len returns the number of users.
func (f *File) Len() int { return len(f.users) }

// Authenticate implements Authenticator.
func (f *File) Authenticate(_ context.Context, username, password string) (User, error) {
	username = Normalize(username)
	e, ok := f.users[username]
	hash := []byte(e.Bcrypt)
	if !ok {
		hash = f.dummies.For(username)
	}
	// Exactly one comparison whatever the outcome: an unknown user, an
	// empty password and a wrong one all cost one bcrypt of the same cost.
	err := f.compare(hash, []byte(password))
	if !ok || err != nil || password == "" {
		return User{}, ErrBadCredentials
	}
	return User{Identity: username, AllowedGrants: slices.Clone(e.Grants), Credential: credential(e.Bcrypt)}, nil
}

// CheckUsername refuses names that cannot be a token identity.
func CheckUsername(name string) error {
	return token.CheckIdentity("username", name)
}

// CheckGrants refuses a policy naming a grant Twilio does not define.
func CheckGrants(grants []string) error {
	if len(grants) == 0 {
		return fmt.Errorf("grants is empty: list grant keys (%s) or %q for all", strings.Join(token.GrantKeys, ", "), AllGrants)
	}
	for _, g := range grants {
		if g != AllGrants && !slices.Contains(token.GrantKeys, g) {
			return fmt.Errorf("grants has %q, which is not a grant key: use %s or %q for all", g, strings.Join(token.GrantKeys, ", "), AllGrants)
		}
	}
	return nil
}

// The accepted bcrypt costs. MinCost is bcrypt's own floor, which the
// tests use for speed; useradd defaults to bcrypt.DefaultCost (10) and
// warns below it. MaxCost holds one check to about a second of a core
// (each step doubles it: cost 10 is tens of milliseconds): dearer hashes
// would let a few sign-ins hold every password check for seconds, and an
// unknown username must cost as much as the dearest real one.
const (
	MinCost = bcrypt.MinCost
	MaxCost = 14
)

// MaxPasswordLen is bcrypt's limit: it ignores anything longer.
const MaxPasswordLen = 72

// Put adds or replaces a user in the users file at path, creating the file
// when missing. It reports whether the user is new. The file is replaced
// atomically and readable by its owner only.
func Put(path, username, password string, grants []string, cost int) (created bool, err error) {
	username = Normalize(username)
	if err := CheckUsername(username); err != nil {
		return false, err
	}
	if err := CheckGrants(grants); err != nil {
		return false, err
	}
	switch {
	case password == "":
		return false, errors.New("password is empty")
	case len(password) > MaxPasswordLen:
		return false, fmt.Errorf("password is %d bytes: bcrypt uses at most %d", len(password), MaxPasswordLen)
	}
	f := fileFormat{Users: map[string]entry{}}
	if _, statErr := os.Stat(path); statErr == nil {
		if f, err = read(path); err != nil {
			return false, err
		}
		if f.Users == nil {
			f.Users = map[string]entry{}
		}
	} else if !errors.Is(statErr, os.ErrNotExist) {
		return false, fmt.Errorf("users file: %w", statErr)
	}
	if cost < MinCost || cost > MaxCost {
		return false, fmt.Errorf("bcrypt cost %d is outside %d to %d", cost, MinCost, MaxCost)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return false, fmt.Errorf("users: hashing the password: %w", err)
	}
	_, existed := f.Users[username]
	f.Users[username] = entry{Bcrypt: string(hash), Grants: grants}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".users-*.json")
	if err != nil {
		return false, fmt.Errorf("users file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return false, fmt.Errorf("users file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("users file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("users file: %w", err)
	}
	return !existed, nil
}

func sortedNames(m map[string]entry) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
