package users

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// dummies are the hashes compared for unknown usernames: one per bcrypt
// cost present in the users file. A single dummy at the dearest cost would
// set cheap real users apart (a cost-4 user answers in 2 ms, everyone else
// in 70), and one at the cheapest would set dear ones apart, so each
// unknown name is given the cost of a real user picked by a keyed hash of
// the name: unknown names' costs are distributed like the real users',
// a name always costs the same (as a real user does), and which cost a
// name gets cannot be told without the file.
type dummies struct {
	key    []byte         // HMAC key: a digest of the file's hashes
	costs  []int          // each real user's cost, in name order
	hashes map[int][]byte // by cost
}

// newDummies hashes a random password once per cost in costs, which
// Load has already checked against MinCost and MaxCost.
func newDummies(users map[string]entry, costs []int) (dummies, error) {
	digest := sha256.New()
	for _, name := range sortedNames(users) {
		digest.Write([]byte(users[name].Bcrypt))
		digest.Write([]byte{0})
	}
	d := dummies{key: digest.Sum(nil), costs: costs, hashes: make(map[int][]byte)}
	for _, c := range costs {
		if _, done := d.hashes[c]; done {
			continue
		}
		h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), c)
		if err != nil {
			return dummies{}, fmt.Errorf("users: dummy hash of cost %d: %w", c, err)
		}
		d.hashes[c] = h
	}
	return d, nil
}

// For is the dummy hash to compare for the unknown username.
func (d dummies) For(username string) []byte {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(username))
	n := binary.BigEndian.Uint64(m.Sum(nil))
	return d.hashes[d.costs[n%uint64(len(d.costs))]]
}
