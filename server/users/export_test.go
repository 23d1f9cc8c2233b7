package users

import "golang.org/x/crypto/bcrypt"

// DummyCost exposes the cost of the dummy hash compared for an unknown
// username.
func DummyCost(f *File, username string) int {
	c, _ := bcrypt.Cost(f.dummies.For(username))
	return c
}

// SetCompare replaces the password comparison, so that tests can count
// comparisons and see which hash each one used.
func SetCompare(f *File, compare func(hash, password []byte) error) { f.compare = compare }

// HashOf is the stored hash of username, or nil.
func HashOf(f *File, username string) []byte {
	e, ok := f.users[username]
	if !ok {
		return nil
	}
	return []byte(e.Bcrypt)
}
