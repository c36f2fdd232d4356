package main

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11"
)

// credentialEnv are the environment variables holding credentials that keywarden, or a
// backend's SDK, sends to a server: the AWS session token (a header; the secret key only signs,
// but a misconfigured proxy may log anything), Vault and OpenBao tokens (a header), the PKCS#11
// PIN, and the GitHub token clones authenticate with. A server's error may echo the request it
// refused, headers and body (a proxy's error page, a KMS-compatible server's message), and
// backends wrap those errors whole; so every message keywarden prints, reports, journals or
// logs has these values replaced by "***".
var credentialEnv = []string{
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"VAULT_TOKEN",
	"BAO_TOKEN",
	pkcs11.PINEnv,
	"GITHUB_TOKEN",
	"GH_TOKEN",
}

// credentialFileParams are the inventory URI parameters naming a file that holds a credential.
var credentialFileParams = []string{"token-file", "pin-file"}

// minScrubbed is the shortest credential scrubbed: a shorter value (a 4-digit PIN) would turn up
// in ordinary text (ports, counts, dates), and replacing it there would garble messages.
const minScrubbed = 6

var credentials struct {
	mu     sync.Mutex
	values map[string]bool // from credential files, for the life of the process
}

// noteCredentialFiles remembers the credentials the specs' backends read from files, so that
// scrub knows them too.
func noteCredentialFiles(specs []hsmcheck.Spec) {
	for _, s := range specs {
		for _, p := range credentialFileParams {
			name := s.Params.Get(p)
			if name == "" {
				continue
			}
			f, err := os.Open(name)
			if err != nil {
				continue // the backend reports it
			}
			b, _ := io.ReadAll(io.LimitReader(f, 4<<10))
			f.Close()
			if v := strings.TrimSpace(string(b)); len(v) >= minScrubbed {
				credentials.mu.Lock()
				if credentials.values == nil {
					credentials.values = map[string]bool{}
				}
				credentials.values[v] = true
				credentials.mu.Unlock()
			}
		}
	}
}

// scrub replaces every known credential in s with "***".
func scrub(s string) string {
	for _, k := range credentialEnv {
		if v := os.Getenv(k); len(v) >= minScrubbed {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	credentials.mu.Lock()
	defer credentials.mu.Unlock()
	for v := range credentials.values {
		s = strings.ReplaceAll(s, v, "***")
	}
	return s
}

// scrubbedError is err with its message scrubbed; errors.Is and As still see err.
type scrubbedError struct {
	err error
	msg string
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubErr returns err with its message scrubbed, or err itself when there was nothing to hide.
func scrubErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if s := scrub(msg); s != msg {
		return &scrubbedError{err: err, msg: s}
	}
	return err
}

// scrubbingRotator scrubs the errors of a backend's rotation steps before the journal records
// them.
type scrubbingRotator struct{ hsmcheck.Rotator }

func (r scrubbingRotator) PlanRotation(ctx context.Context, k hsmcheck.Key, reason hsmcheck.Reason) (*hsmcheck.Plan, error) {
	p, err := r.Rotator.PlanRotation(ctx, k, reason)
	return p, scrubErr(err)
}

func (r scrubbingRotator) RotateStep(ctx context.Context, p *hsmcheck.Plan, i int) (string, error) {
	out, err := r.Rotator.RotateStep(ctx, p, i)
	return out, scrubErr(err)
}
