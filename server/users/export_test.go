package users

import "golang.org/x/crypto/bcrypt"

// DummyCost exposes the dummy hash's cost to the tests.
func DummyCost(f *File) int {
	c, _ := bcrypt.Cost(f.dummy)
	return c
}
