package session

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the random session secret kept in a state
// directory when no secret is configured (see StateKey).
const KeyFile = "session-key"

// RandomKey returns a fresh random secret of KeySize bytes: sessions
// sealed under it end with the process.
func RandomKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k) // never fails (crypto/rand)
	return k
}

// StateKey returns the random session secret kept in dir, creating it
// (mode 0600) on first use, so that sessions survive a restart without a
// configured secret. A file that others may read or write is refused, as
// ssh refuses a private key: whoever reads it can seal any session.
func StateKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		k := RandomKey()
		_, err = f.WriteString(hex.EncodeToString(k) + "\n")
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("session: writing the session key %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("session: creating the session key %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("session: reading the session key: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("session: the session key %s is open to other users (mode %04o): run `chmod 600 %s`, or delete it to start with a new key (everyone signs in again)", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("session: reading the session key: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(k) != KeySize {
		return nil, fmt.Errorf("session: the session key %s is not %d bytes in hex: delete it to start with a new key (everyone signs in again)", path, KeySize)
	}
	return k, nil
}
