package users

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"golang.org/x/text/unicode/norm"
)

// MaxFileBytes bounds a users file: thousands of users fit in it.
const MaxFileBytes = 1 << 20

// formatHint is appended to errors about the file's shape.
const formatHint = `(expected {"users": {"NAME": {"bcrypt": "…", "grants": ["video"]}}})`

// Normalize brings a username to Unicode NFC, so that the composed "é"
// (U+00E9) and "e" plus a combining accent (U+0065 U+0301) name one user,
// whichever form a keyboard, a shell or a browser sends.
func Normalize(name string) string { return norm.NFC.String(name) }

// checkMode refuses a users file that others may write, as ssh refuses
// such an authorized_keys: whoever can write the file can sign in as
// anyone. Windows has no such mode bits.
func checkMode(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("users file: %w (set TOKENLAB_USERS_FILE to an existing file, or unset it for open demo mode)", err)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("users file %s is writable by its group or by others (mode %04o), so they could add themselves: run `chmod 600 %s`", path, perm, path)
	}
	return nil
}

// parse reads a users file strictly: one JSON object and nothing after it,
// no unknown or repeated keys (encoding/json would keep the last of two
// entries for one user), names in NFC with no two names alike after
// normalizing. Errors name the user and the byte offset.
func parse(path string, data []byte) (fileFormat, error) {
	p := parser{dec: json.NewDecoder(bytes.NewReader(data)), path: path}
	f, err := p.file()
	if err != nil {
		return fileFormat{}, err
	}
	if tok, err := p.dec.Token(); err != io.EOF {
		what := fmt.Sprintf("%v", tok)
		if err != nil {
			what = "text that is not JSON"
		}
		return fileFormat{}, fmt.Errorf("users file %s is not valid: %s after the object, at byte %d: a users file holds exactly one object %s", path, what, p.dec.InputOffset(), formatHint)
	}
	return f, nil
}

type parser struct {
	dec  *json.Decoder
	path string
}

// fail reports a problem at the decoder's position.
func (p *parser) fail(format string, args ...any) error {
	return fmt.Errorf("users file %s is not valid: %s, at byte %d %s", p.path, fmt.Sprintf(format, args...), p.dec.InputOffset(), formatHint)
}

// syntax wraps a decoder error.
func (p *parser) syntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.fail("it ends early")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return p.fail("bad JSON (%v)", err)
	}
	return p.fail("%v", err)
}

// value wraps an error decoding a member's value: a wrong type gets the
// caller's message, which says what is expected.
func (p *parser) value(err error, format string, args ...any) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return p.fail(format, args...)
	}
	return p.syntax(err)
}

// open consumes the '{' that starts an object named what.
func (p *parser) open(what string) error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return p.fail("%s must be an object", what)
	}
	return nil
}

// key reads the next member name of an object.
func (p *parser) key() (string, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", p.syntax(err)
	}
	return tok.(string), nil // the decoder yields only strings as keys
}

// close consumes the '}' of an object.
func (p *parser) close() error {
	if _, err := p.dec.Token(); err != nil {
		return p.syntax(err)
	}
	return nil
}

func (p *parser) file() (fileFormat, error) {
	var f fileFormat
	if err := p.open("the file"); err != nil {
		return f, err
	}
	seen := false
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return f, err
		}
		switch {
		case k != "users":
			return f, p.fail("unknown field %q at the top", k)
		case seen:
			return f, p.fail(`"users" appears twice`)
		}
		seen = true
		if f.Users, err = p.users(); err != nil {
			return f, err
		}
	}
	return f, p.close()
}

func (p *parser) users() (map[string]entry, error) {
	if err := p.open(`"users"`); err != nil {
		return nil, err
	}
	users := map[string]entry{}
	raw := map[string]string{} // NFC name → the name as written
	for p.dec.More() {
		name, err := p.key()
		if err != nil {
			return nil, err
		}
		nfc := Normalize(name)
		if first, dup := raw[nfc]; dup {
			if first == name {
				return nil, p.fail("user %q is listed twice: keep one entry", name)
			}
			return nil, p.fail("users %q and %q are one name in two Unicode forms: keep one entry", first, name)
		}
		raw[nfc] = name
		e, err := p.entry(name)
		if err != nil {
			return nil, err
		}
		users[nfc] = e
	}
	return users, p.close()
}

func (p *parser) entry(name string) (entry, error) {
	var e entry
	if err := p.open(fmt.Sprintf("user %q", name)); err != nil {
		return e, err
	}
	seen := map[string]bool{}
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return e, err
		}
		if seen[k] {
			return e, p.fail("user %q has %q twice", name, k)
		}
		seen[k] = true
		switch k {
		case "bcrypt":
			if err := p.dec.Decode(&e.Bcrypt); err != nil {
				return e, p.value(err, "user %q: bcrypt must be a string", name)
			}
		case "grants":
			if err := p.dec.Decode(&e.Grants); err != nil {
				return e, p.value(err, "user %q: grants must be a list of strings", name)
			}
		default:
			return e, p.fail("user %q has an unknown field %q", name, k)
		}
	}
	return e, p.close()
}

// readBounded reads the file, refusing one over MaxFileBytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w (set TOKENLAB_USERS_FILE to an existing file, or unset it for open demo mode)", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("users file %s is over %d bytes: is it the right file?", path, MaxFileBytes)
	}
	return data, nil
}
