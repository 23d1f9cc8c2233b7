package device_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/device"
)

func TestDeviceCookies(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	c := device.New(bytes.Repeat([]byte{7}, 32), clock)
	value, expires := c.Issue("susan")
	if !expires.Equal(now.Add(device.Lifetime)) {
		t.Errorf("expires %v, want %v", expires, now.Add(device.Lifetime))
	}
	id, ok := c.Device(value, "susan")
	if !ok || id == "" {
		t.Fatalf("its own cookie refused: %q", value)
	}
	if other, _ := c.Issue("susan"); other == value {
		t.Error("two sign-ins got the same device cookie")
	}
	i := strings.LastIndexByte(value, '.')
	for name, v := range map[string]string{
		"another user":        "root",
		"altered":             "susan",
		"signed by another":   "susan",
		"empty":               "susan",
		"no signature":        "susan",
		"username with a dot": "susan.",
	} {
		bad := value
		switch name {
		case "altered":
			bad = strings.Replace(value, ".17", ".27", 1)
		case "signed by another":
			bad, _ = device.New(bytes.Repeat([]byte{8}, 32), clock).Issue("susan")
		case "empty":
			bad = ""
		case "no signature":
			bad = value[:i]
		}
		if _, ok := c.Device(bad, v); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	now = now.Add(device.Lifetime)
	if _, ok := c.Device(value, "susan"); ok {
		t.Error("an expired cookie was accepted")
	}
}
