package p11mod

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/miekg/pkcs11"
)

// Module is a PKCS#11 library this process has loaded and initialised. Its embedded Ctx is
// valid between Acquire and the matching Release.
type Module struct {
	*pkcs11.Ctx
	path  string
	refs  int
	owned bool // this package's C_Initialize succeeded, so its last Release finalizes

	// logins holds the SHA-256 of the PIN that logged each slot in, so that a second login
	// with another PIN, which the token answers with CKR_USER_ALREADY_LOGGED_IN, is refused.
	logins map[uint][32]byte
}

var (
	mu   sync.Mutex
	mods = map[string]*Module{} // by the library's resolved path
)

func key(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	return path
}

// Acquire loads the module at path if needed and initialises it unless it is initialised
// already. Each successful Acquire needs one Release.
func Acquire(path string) (*Module, error) {
	mu.Lock()
	defer mu.Unlock()
	k := key(path)
	m := mods[k]
	if m == nil {
		ctx := pkcs11.New(path)
		if ctx == nil {
			return nil, fmt.Errorf("loading pkcs11 module %q: no such file or not a PKCS#11 library", path)
		}
		m = &Module{Ctx: ctx, path: path}
		mods[k] = m
	}
	if m.refs == 0 {
		switch err := m.Initialize(); {
		case err == nil:
			m.owned = true
		case Is(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED):
			// Someone outside this package initialised it; they finalize it, not us.
			m.owned = false
		default:
			return nil, fmt.Errorf("initializing pkcs11 module %q: %w", path, err)
		}
		m.logins = map[uint][32]byte{}
	}
	m.refs++
	return m, nil
}

// Release gives up one Acquire. The last one finalizes the module if Acquire initialised it.
func (m *Module) Release() error {
	mu.Lock()
	defer mu.Unlock()
	if m.refs == 0 {
		return nil
	}
	m.refs--
	if m.refs > 0 || !m.owned {
		return nil
	}
	m.owned = false
	m.logins = nil
	if err := m.Finalize(); err != nil {
		return fmt.Errorf("finalizing pkcs11 module %q: %w", m.path, err)
	}
	return nil
}

// Login logs the user in through session sh of slot. A token that is logged in already (by
// another session of this process) accepts only the PIN that logged it in.
func (m *Module) Login(sh pkcs11.SessionHandle, slot uint, pin string) error {
	mu.Lock()
	defer mu.Unlock()
	sum := sha256.Sum256([]byte(pin))
	err := m.Ctx.Login(sh, pkcs11.CKU_USER, pin)
	switch {
	case err == nil:
		m.logins[slot] = sum
		return nil
	case Is(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN):
		if prev, ok := m.logins[slot]; ok && subtle.ConstantTimeCompare(prev[:], sum[:]) != 1 {
			return ErrOtherPIN
		}
		return nil
	}
	return err
}

// ErrOtherPIN means the token is logged in already with a different PIN.
var ErrOtherPIN = errors.New("token is logged in already with a different PIN")

// InUse reports whether the module at path is initialised through this package now. SoftHSM
// reads its configuration and token directory only at C_Initialize, so a test helper uses it
// to refuse creating a token the running module would not see.
func InUse(path string) bool {
	mu.Lock()
	defer mu.Unlock()
	m := mods[key(path)]
	return m != nil && m.refs > 0
}

// Is reports whether err is a PKCS#11 return value among codes.
func Is(err error, codes ...uint) bool {
	var rv pkcs11.Error
	if !errors.As(err, &rv) {
		return false
	}
	for _, c := range codes {
		if uint(rv) == c {
			return true
		}
	}
	return false
}
