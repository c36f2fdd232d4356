package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/kmip/kmiptest"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/softhsmtest"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/scanner/gittest"
)

// killAtEnv names the step boundary ("1:acted") at which the re-executed test binary kills
// itself with SIGKILL during a rotation (see TestMain).
const killAtEnv = "KEYWARDEN_TEST_KILL_AT"

// rotateEnv is where a test keeps its audit log and journals.
type rotateEnv struct {
	audit, journals string
}

func newRotateEnv(t *testing.T) rotateEnv {
	dir := t.TempDir()
	return rotateEnv{audit: filepath.Join(dir, "audit.jsonl"), journals: filepath.Join(dir, "rotations")}
}

func (e rotateEnv) args(args ...string) []string {
	return append(args, "--audit-log", e.audit, "--journal-dir", e.journals)
}

// inventoryLabels lists the labels of the inventory's keys, and how often each occurs.
func inventoryLabels(t *testing.T, uri string) map[string]int {
	t.Helper()
	res := keywarden(t, "inventory", "list", "--inventory", uri, "--format", "json")
	if res.code != exitClean {
		t.Fatalf("inventory list: exit %d: %s", res.code, res.stderr)
	}
	var keys []struct{ Label, State string }
	if err := json.Unmarshal([]byte(res.stdout), &keys); err != nil {
		t.Fatalf("inventory list: %v\n%s", err, res.stdout)
	}
	out := map[string]int{}
	for _, k := range keys {
		out[k.Label]++
		out[k.Label+"="+k.State]++
	}
	return out
}

// TestRotatePKCS11 is issue #8's walkthrough against a real SoftHSM2 token: a key leaked in a
// repository is live; rotate prints a plan and changes nothing; --apply makes a replacement,
// retires the old key and re-checks; the scan then reports the leak as retired; the audit log
// holds every step and verifies; a second rotation of the retired key is refused.
func TestRotatePKCS11(t *testing.T) {
	tk := softhsmtest.New(t)
	tk.UsePINEnv(t)
	signing := tk.GenerateRSA(t, "jwt-signing", []byte{0x01}, 2048)
	r := gittest.New(t)
	r.Commit(map[string]string{"deploy/signing.pem": pemKey(t, signing)}, "add signing key")
	env := newRotateEnv(t)

	rep, res := scanJSON(t, env.args("scan", "git", r.Path(), "--inventory", tk.URI())...)
	if res.code != exitFindings {
		t.Fatalf("scan: exit %d: %s", res.code, res.stderr)
	}
	checkExposures(t, exposureOf(t, rep), map[string]string{"deploy/signing.pem": "live critical " + hsmcheck.BySPKI})

	before := inventoryLabels(t, tk.URI())
	dry := keywarden(t, env.args("rotate", "jwt-signing", "--inventory", tk.URI())...)
	if dry.code != exitClean {
		t.Fatalf("dry run: exit %d: %s", dry.code, dry.stderr)
	}
	for _, want := range []string{"dry run: nothing will change", "jwt-signing.v2", "Run again with --apply", "reason:  compromise"} {
		if !strings.Contains(dry.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, dry.stdout)
		}
	}
	if after := inventoryLabels(t, tk.URI()); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a dry run changed the token: %v, was %v", after, before)
	}
	if _, err := os.Stat(env.journals); err == nil {
		t.Error("a dry run wrote a journal")
	}

	res = keywarden(t, env.args("rotate", "jwt-signing", "--apply", "--inventory", tk.URI())...)
	if res.code != exitClean {
		t.Fatalf("rotate --apply: exit %d: %s\n%s", res.code, res.stderr, res.stdout)
	}
	for _, want := range []string{"(applied)", "re-check:", "replacement jwt-signing.v2", "is active", "What you must still do", "redeploy every consumer"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("rotate output lacks %q:\n%s", want, res.stdout)
		}
	}
	labels := inventoryLabels(t, tk.URI())
	if labels["jwt-signing"] != 1 || labels["jwt-signing.v2=active"] != 1 || labels["jwt-signing=active"] != 0 {
		t.Errorf("token after rotation: %v, want the old key kept and retired, one active replacement", labels)
	}

	rep, res = scanJSON(t, "scan", "git", r.Path(), "--inventory", tk.URI())
	if res.code != exitFindings {
		t.Fatalf("scan: exit %d: %s", res.code, res.stderr)
	}
	checkExposures(t, exposureOf(t, rep), map[string]string{"deploy/signing.pem": "retired critical " + hsmcheck.BySPKI})

	again := keywarden(t, env.args("rotate", "jwt-signing", "--apply", "--inventory", tk.URI())...)
	if again.code != exitError || !strings.Contains(again.stderr, "already out of use") {
		t.Errorf("rotating the retired key again: exit %d: %s", again.code, again.stderr)
	}
	if st := keywarden(t, "rotate", "--status", "--journal-dir", env.journals); !strings.Contains(st.stdout, "complete") {
		t.Errorf("rotate --status: %s", st.stdout)
	}

	log, err := os.ReadFile(env.audit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event":"scan"`, `"event":"exposure"`, `"event":"rotation-plan"`, `"event":"rotation-step"`, `"event":"rotation-complete"`, `spki-sha256:`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if strings.Contains(string(log), "PRIVATE KEY") {
		t.Error("audit log holds key material")
	}
	if v := keywarden(t, "audit", "verify", env.audit); v.code != exitClean {
		t.Errorf("audit verify: exit %d: %s %s", v.code, v.stdout, v.stderr)
	}
}

// TestScanRotateLive: scan --rotate-live plans the rotation of every live key, and with
// --apply rotates each once, checks the replacement is not among what the scan found, and
// leaves the report on stdout.
func TestScanRotateLive(t *testing.T) {
	tk := softhsmtest.New(t)
	tk.UsePINEnv(t)
	signing := tk.GenerateRSA(t, "api-signing", []byte{0x07}, 2048)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.pem"), pemKey(t, signing))
	writeFile(t, filepath.Join(dir, "copy/b.pem"), pemKey(t, signing))
	env := newRotateEnv(t)

	res := keywarden(t, env.args("scan", "dir", dir, "--inventory", tk.URI(), "--rotate-live", "--format", "json")...)
	if res.code != exitFindings || !strings.Contains(res.stderr, "dry run") || strings.Count(res.stderr, "Rotation ") != 1 {
		t.Fatalf("dry run: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	var rep report.JSONReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v", err)
	}
	if inventoryLabels(t, tk.URI())["api-signing.v2"] != 0 {
		t.Fatal("a dry run rotated")
	}

	res = keywarden(t, env.args("scan", "dir", dir, "--inventory", tk.URI(), "--rotate-live", "--apply", "--format", "json")...)
	if res.code != exitFindings {
		t.Fatalf("scan --rotate-live --apply: exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"(applied)", "the replacement is not in the scanned sources", "What you must still do"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	if l := inventoryLabels(t, tk.URI()); l["api-signing.v2=active"] != 1 || l["api-signing.v3"] != 0 {
		t.Errorf("token after --rotate-live: %v, want one replacement for the two copies", l)
	}
	if bad := keywarden(t, "scan", "dir", dir, "--apply"); bad.code != exitError || !strings.Contains(bad.stderr, "--rotate-live") {
		t.Errorf("--apply without --rotate-live: exit %d: %s", bad.code, bad.stderr)
	}
}

// runKilled runs keywarden in a child process that kills itself with SIGKILL at boundary b.
func runKilled(t *testing.T, b hsmcheck.Boundary, args ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", killAtEnv+"="+b.String())
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child was not killed at %s: %v\n%s", b, err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child at %s ended with %v, want SIGKILL:\n%s", b, err, out)
	}
}

// TestRotateKilledAtEveryBoundary kills a real keywarden process at every step boundary of a
// SoftHSM2 rotation. Afterwards a new rotation of the key is refused, --status says where
// things stand, and --resume finishes with exactly one replacement and the old key kept.
func TestRotateKilledAtEveryBoundary(t *testing.T) {
	tk := softhsmtest.New(t)
	tk.UsePINEnv(t)
	tk.GenerateRSA(t, "probe", []byte{0x70}, 1024)
	env := newRotateEnv(t)
	dry := keywarden(t, env.args("rotate", "probe", "--inventory", tk.URI(), "--format", "json")...)
	var doc struct {
		Rotations []report.RotationJSON `json:"rotations"`
	}
	if err := json.Unmarshal([]byte(dry.stdout), &doc); err != nil || len(doc.Rotations) != 1 {
		t.Fatalf("dry run json: %v: %s %s", err, dry.stdout, dry.stderr)
	}
	steps := len(doc.Rotations[0].Steps)

	for n, b := range hsmcheck.Boundaries(steps) {
		t.Run(b.String(), func(t *testing.T) {
			label := fmt.Sprintf("svc-%d", n)
			tk.GenerateRSA(t, label, []byte{0x80, byte(n)}, 1024)
			env := newRotateEnv(t)
			runKilled(t, b, env.args("rotate", label, "--apply", "--inventory", tk.URI())...)

			st := keywarden(t, "rotate", "--status", label, "--journal-dir", env.journals)
			if !strings.Contains(st.stdout, fmt.Sprintf("step %d of %d", b.Step+1, steps)) && !strings.Contains(st.stdout, "re-check pending") &&
				!(b.Phase == hsmcheck.PhaseDone && strings.Contains(st.stdout, fmt.Sprintf("step %d of %d", b.Step+2, steps))) {
				t.Errorf("status after a kill at %s: %s", b, st.stdout)
			}
			if again := keywarden(t, env.args("rotate", label, "--apply", "--inventory", tk.URI())...); again.code != exitError || !strings.Contains(again.stderr, "--resume") {
				t.Errorf("a new rotation over an unfinished one: exit %d: %s", again.code, again.stderr)
			}
			res := keywarden(t, env.args("rotate", "--resume", "--inventory", tk.URI())...)
			if res.code != exitClean {
				t.Fatalf("resume after a kill at %s: exit %d: %s\n%s", b, res.code, res.stderr, res.stdout)
			}
			l := inventoryLabels(t, tk.URI())
			if l[label] != 1 || l[label+".v2=active"] != 1 || l[label+".v2"] != 1 || l[label+".v3"] != 0 {
				t.Errorf("after resume: %s=%d, %s.v2=%d (active %d), want the old key and one active replacement", label, l[label], label, l[label+".v2"], l[label+".v2=active"])
			}
			if v := keywarden(t, "audit", "verify", env.audit); v.code != exitClean {
				t.Errorf("audit log after a kill: exit %d: %s", v.code, v.stderr)
			}
		})
	}
}

// TestRotateErrors: each bad input or failing backend is one clear line, exit 2, and nothing
// changed or lost.
func TestRotateErrors(t *testing.T) {
	tk := softhsmtest.New(t)
	tk.UsePINEnv(t)
	tk.GenerateRSA(t, "k1", []byte{0x11}, 1024)
	env := newRotateEnv(t)
	invFile := filepath.Join(t.TempDir(), "keywarden-inventory.yaml")
	writeFile(t, invFile, "keys:\n  - id: k9\n    label: k9\n    class: secret\n    state: active\n    fingerprints:\n      kcv: abcdef\n")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no key named", []string{"rotate", "--inventory", tk.URI()}, "name the key to rotate"},
		{"no inventory", []string{"rotate", "k1", "--no-inventory"}, "no key inventory"},
		{"unknown key", []string{"rotate", "nope", "--inventory", tk.URI()}, `no key in the inventories matches "nope"`},
		{"bad reason", []string{"rotate", "k1", "--reason", "bored", "--inventory", tk.URI()}, "unknown rotation reason"},
		{"file inventories cannot rotate", []string{"rotate", "k9", "--apply", "--inventory", "file:" + invFile}, "cannot rotate keys"},
		{"nothing to resume", []string{"rotate", "--resume", "--inventory", tk.URI()}, "no unfinished rotation"},
		{"bad format", []string{"rotate", "k1", "--format", "xml", "--inventory", tk.URI()}, "unknown --format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := keywarden(t, env.args(tt.args...)...)
			if res.code != exitError || !strings.Contains(res.stderr, tt.want) || strings.Count(strings.TrimSpace(res.stderr), "\n") > 1 {
				t.Errorf("exit %d, stderr %q; want 2 and %q", res.code, res.stderr, tt.want)
			}
		})
	}

	// A wrong PIN: the token is skipped, so the key is not found, the message says why, and no
	// journal exists.
	t.Setenv("KEYWARDEN_PKCS11_PIN", "000000")
	res := keywarden(t, env.args("rotate", "k1", "--apply", "--inventory", tk.URI())...)
	if res.code != exitError || !strings.Contains(res.stderr, "not authorized") {
		t.Errorf("wrong PIN: exit %d: %s", res.code, res.stderr)
	}
	if js, _ := hsmcheck.Journals(env.journals); len(js) != 0 {
		t.Errorf("a refused rotation left %d journals", len(js))
	}
}

// TestRotateResumeWithWrongPIN: a rotation killed half way cannot be resumed with a wrong PIN;
// the error says so, the journal still says where it stands, and with the right PIN it finishes.
func TestRotateResumeWithWrongPIN(t *testing.T) {
	tk := softhsmtest.New(t)
	tk.UsePINEnv(t)
	tk.GenerateRSA(t, "half", []byte{0x21}, 1024)
	env := newRotateEnv(t)
	runKilled(t, hsmcheck.Boundary{Step: 0, Phase: hsmcheck.PhaseDone}, env.args("rotate", "half", "--apply", "--inventory", tk.URI())...)
	pin := os.Getenv("KEYWARDEN_PKCS11_PIN")

	t.Setenv("KEYWARDEN_PKCS11_PIN", "000000")
	res := keywarden(t, env.args("rotate", "--resume", "--inventory", tk.URI())...)
	if res.code != exitError || !strings.Contains(res.stderr, "not authorized") {
		t.Errorf("resume with a wrong PIN: exit %d: %s", res.code, res.stderr)
	}
	js, err := hsmcheck.Journals(env.journals)
	if err != nil || len(js) != 1 || js[0].Complete || js[0].Next != 1 {
		t.Fatalf("journal after a refused resume: %+v, %v", js, err)
	}

	t.Setenv("KEYWARDEN_PKCS11_PIN", pin)
	if res := keywarden(t, env.args("rotate", "--resume", "--inventory", tk.URI())...); res.code != exitClean {
		t.Fatalf("resume: exit %d: %s", res.code, res.stderr)
	}
	if l := inventoryLabels(t, tk.URI()); l["half.v2=active"] != 1 || l["half"] != 1 {
		t.Errorf("after resume: %v", l)
	}
}

// TestRotateKMIP rotates a leaked key pair on a real PyKMIP server with --reason compromise,
// after which the scan reports the leak as retired and the replacement is active.
func TestRotateKMIP(t *testing.T) {
	srv := kmiptest.Start(t)
	signing, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("rot-%x", signing.N.Bytes()[:4])
	srv.RegisterKeyPair(t, signing, name)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "signing.pem"), pemKey(t, signing))
	env := newRotateEnv(t)

	res := keywarden(t, env.args("scan", "dir", dir, "--inventory", srv.URI(), "--rotate-live", "--apply", "--format", "json")...)
	if res.code != exitFindings || !strings.Contains(res.stderr, "(applied)") || strings.Contains(res.stderr, "PROBLEM") {
		t.Fatalf("scan --rotate-live --apply: exit %d: %s", res.code, res.stderr)
	}
	rep, res := scanJSON(t, "scan", "dir", dir, "--inventory", srv.URI())
	if res.code != exitFindings {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	checkExposures(t, exposureOf(t, rep), map[string]string{"signing.pem": "retired critical " + hsmcheck.BySPKI})
	if l := inventoryLabels(t, srv.URI()); l[name+".v2=active"] != 1 || l[name+"=compromised"] != 1 {
		t.Errorf("server after rotation: %v", l)
	}
}
