package mint_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretNeverPrinted tries every usual way a value reaches a log line or
// an error message.
func TestSecretNeverPrinted(t *testing.T) {
	c := creds()
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, c.APIKeySecret), fmt.Sprintf(verb, &c))
	}
	outputs = append(outputs, c.APIKeySecret.String(), c.APIKeySecret.GoString(), fmt.Sprint(c.APIKeySecret), fmt.Errorf("wrap: %w", fmt.Errorf("%v", c)).Error())
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j))
	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(newHandler(&buf)).Info("config", "creds", c, "secret", c.APIKeySecret)
		outputs = append(outputs, buf.String())
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
			t.Errorf("secret printed: %s", out)
		}
	}
	if !strings.Contains(outputs[0], apiKeySID) {
		t.Errorf("the non-secret fields should still print: %s", outputs[0])
	}
	if c.APIKeySecret.Reveal() != secret {
		t.Error("Reveal must return the secret")
	}
}
