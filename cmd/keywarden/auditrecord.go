package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/report/auditlog"
	"github.com/keywarden/keywarden/scanner"
)

// auditEnv turns the audit log on for every command that records, as if --audit-log had been
// given, so that a CI job or a shared workstation can keep one without changing each command.
const auditEnv = "KEYWARDEN_AUDIT_LOG"

// auditFlags say where the audit log is and whether it is keyed.
type auditFlags struct {
	path    string
	keyFile string
}

func (a *auditFlags) register(fs *pflag.FlagSet, always bool) {
	help := "append scan summaries and exposures to this hash-chained audit log (also: $" + auditEnv + ")"
	if always {
		help = "hash-chained audit log every plan and rotation step is appended to (also: $" + auditEnv + ")"
	}
	fs.StringVar(&a.path, "audit-log", "", help+" (default "+auditlog.DefaultPath+" where a log is kept)")
	fs.StringVar(&a.keyFile, "audit-hmac-key-file", "", "file holding the key of a keyed (HMAC-SHA256) audit chain")
}

// auditor appends one command's records to the audit log; a nil auditor records nothing.
type auditor struct {
	log     *auditlog.Log
	path    string
	command string
	warn    func(error)
	failed  error
}

// open opens the log: always for commands that change keys, else only when asked for.
func (a *auditFlags) open(c *cobra.Command, always bool, warn func(error)) (*auditor, error) {
	path := a.path
	if path == "" {
		path = os.Getenv(auditEnv)
	}
	if path == "" && !always {
		return nil, nil
	}
	if path == "" {
		path = auditlog.DefaultPath
	}
	var key []byte
	if a.keyFile != "" {
		var err error
		if key, err = auditlog.ReadHMACKey(a.keyFile); err != nil {
			return nil, err
		}
	}
	l, err := auditlog.Open(path, key)
	if err != nil {
		return nil, err
	}
	return &auditor{log: l, path: path, command: commandLine(c), warn: warn}, nil
}

// record appends one entry. A failed append is warned about and remembered: the command goes
// on (the rotation journal still has every step) and exits 2 at the end.
func (a *auditor) record(event string, keys []auditlog.KeyRef, details map[string]any) {
	if a == nil {
		return
	}
	if _, err := a.log.Append(auditlog.Entry{Command: a.command, Event: event, Keys: keys, Details: details}); err != nil {
		a.warn(err)
		if a.failed == nil {
			a.failed = err
		}
	}
}

func (a *auditor) close() error {
	if a == nil {
		return nil
	}
	if err := a.log.Close(); err != nil && a.failed == nil {
		a.failed = err
	}
	return a.failed
}

type argsKey struct{}

// commandLine is the command as typed, with inventory URIs and remote targets redacted.
func commandLine(c *cobra.Command) string {
	args, _ := c.Context().Value(argsKey{}).([]string)
	out := []string{"keywarden"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--inventory" && i+1 < len(args):
			out = append(out, a, redactSpec(args[i+1]))
			i++
			continue
		case strings.HasPrefix(a, "--inventory="):
			a = "--inventory=" + redactSpec(strings.TrimPrefix(a, "--inventory="))
		default:
			a = scanner.RedactURL(a)
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func redactSpec(uri string) string {
	s, err := hsmcheck.ParseSpec(uri)
	if err != nil {
		return "(unparsable inventory URI)"
	}
	return s.Redacted()
}

func withArgs(ctx context.Context, args []string) context.Context {
	return context.WithValue(ctx, argsKey{}, args)
}

// keyRef names an inventory key for the log.
func keyRef(inv string, k hsmcheck.Key) auditlog.KeyRef {
	r := auditlog.KeyRef{Inventory: inv, ID: k.ID, Label: k.Label, Version: k.Version}
	if k.HasSPKI() {
		r.Fingerprint = hsmcheck.BySPKI + ":" + report.KeyOf(k).SPKISHA256
	}
	return r
}

// recordScan logs a scan's summary and one entry per finding that matched an inventory key.
func (a *auditor) recordScan(res *report.Result) {
	if a == nil {
		return
	}
	bySev := map[string]int{}
	byExp := map[string]int{}
	for _, f := range res.Findings {
		bySev[f.Severity]++
		if f.Exposure != nil {
			byExp[f.Exposure.Status]++
		}
	}
	details := map[string]any{
		"source": res.Source, "target": res.Target, "findings": len(res.Findings),
		"by_severity": bySev, "by_exposure": byExp, "blobs": res.Stats.Blobs, "bytes": res.Stats.Bytes,
	}
	if res.Incomplete {
		details["incomplete"] = true
	}
	a.record("scan", nil, details)
	for _, f := range res.Findings {
		if f.Exposure == nil || len(f.Exposure.Matches) == 0 {
			continue
		}
		var keys []auditlog.KeyRef
		for _, m := range f.Exposure.Matches {
			keys = append(keys, auditlog.KeyRef{Inventory: m.Inventory, ID: m.KeyID, Label: m.Label, Version: m.Version, Fingerprint: m.By})
		}
		loc := ""
		if len(f.Locations) > 0 {
			l := f.Locations[0]
			loc = fmt.Sprintf("%s:%d", l.Path, l.Line)
			if l.Commit != "" {
				loc = l.Commit + ":" + loc
			}
		}
		a.record("exposure", keys, map[string]any{
			"status": f.Exposure.Status, "rule": f.RuleID, "finding": f.Fingerprint, "location": loc, "severity": f.Severity,
		})
	}
}
