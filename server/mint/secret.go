package mint

import (
	"fmt"
	"log/slog"
)

// Secret holds an API key secret. Every way of printing it (fmt verbs,
// slog, JSON) shows a placeholder, so a secret that ends up in a log call or
// an error by mistake still never leaves the process. Reveal is the one
// deliberate way to read it.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for signing only.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Format covers every verb (%x, %d, %q…), not only the ones that use String.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }
