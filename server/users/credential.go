package users

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/tokenlab/tokenlab/shared/token"
)

// ErrUserChanged is wrapped by Check's errors: the users file no longer
// grants what the session was started with.
var ErrUserChanged = errors.New("the users file changed since this session started")

// Checker re-checks a session against the users as they are now.
type Checker interface {
	// Check returns an error wrapping ErrUserChanged when identity is no
	// longer a user, its password changed since credential was taken at
	// sign-in, or it may no longer have every grant in g.
	Check(identity, credential string, g token.Grants) error
}

// credentialInfo separates credential digests from any other use of SHA-256.
const credentialInfo = "tokenlab password credential v1\x00"

// credential is a short fingerprint of a bcrypt hash: it changes whenever
// the password is set again (bcrypt draws a new salt each time, even for
// the same password). A session cookie carries it instead of the hash. It
// needs no key: its input includes the hash's random 128-bit salt, so
// without the users file nobody can compute it, nor test a password
// guess against it.
func credential(hash string) string {
	sum := sha256.Sum256([]byte(credentialInfo + hash))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Check implements Checker.
func (f *File) Check(identity, cred string, g token.Grants) error {
	e, ok := f.users[identity]
	if !ok {
		return fmt.Errorf("%w: %q is no longer a user: sign in as another user", ErrUserChanged, identity)
	}
	if subtle.ConstantTimeCompare([]byte(cred), []byte(credential(e.Bcrypt))) != 1 {
		return fmt.Errorf("%w: the password of %q was changed: sign in with the new one", ErrUserChanged, identity)
	}
	if err := (User{Identity: identity, AllowedGrants: e.Grants}).Allows(g); err != nil {
		return fmt.Errorf("%w: %v now: sign in again for the grants still allowed", ErrUserChanged, err)
	}
	return nil
}

// Check implements Checker: in open demo mode every session stays valid.
func (OpenDemo) Check(string, string, token.Grants) error { return nil }
