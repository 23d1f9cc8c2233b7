package session_test

import (
	"bytes"
	"testing"
)

// Keys derived for other purposes follow the sealing key, differ per
// purpose and reveal neither the sealing key nor each other.
func TestSubkey(t *testing.T) {
	key := mustKey(t, "one secret")
	m := mustManager(t, key, newClock(), nil)
	a, b := m.Subkey("purpose a"), m.Subkey("purpose b")
	if len(a) != 32 || bytes.Equal(a, b) || bytes.Equal(a, key) {
		t.Errorf("subkeys %x and %x of key %x: want 32 distinct bytes each", a, b, key)
	}
	if !bytes.Equal(a, mustManager(t, key, newClock(), nil).Subkey("purpose a")) {
		t.Error("the same key and purpose gave two subkeys")
	}
	if bytes.Equal(a, mustManager(t, mustKey(t, "another secret"), newClock(), nil).Subkey("purpose a")) {
		t.Error("another sealing key gave the same subkey")
	}
}
