package auth

import (
	"errors"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// ErrEmptyPassword is returned when no password was given.
var ErrEmptyPassword = errors.New("auth: empty password")

// Credentials is what the login form posts.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

const minPasswordLength = 12

// Check compares a login attempt with the stored bcrypt hash.
func Check(c Credentials, storedHash []byte) error {
	if c.Password == "" {
		return ErrEmptyPassword
	}
	if utf8.RuneCountInString(c.Password) < minPasswordLength {
		return errors.New("auth: password too short")
	}
	return bcrypt.CompareHashAndPassword(storedHash, []byte(c.Password))
}

// Hash returns the bcrypt hash to store for a new password.
func Hash(password string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
}
