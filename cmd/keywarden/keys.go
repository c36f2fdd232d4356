package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keys"
	"github.com/keywarden/keywarden/scanner"
)

// checkedKey is one key found in a file given to keys check.
type checkedKey struct {
	File       string          `json:"file"`
	Line       int             `json:"line"`
	Key        scanner.KeyInfo `json:"key"`
	Weaknesses []keys.Weakness `json:"weaknesses"`
	// Exposure is the inventory cross-check's verdict on a private key; nil when no inventory
	// was checked.
	Exposure *hsmcheck.Exposure `json:"exposure,omitempty"`
	rsaN     *big.Int           // for the shared-prime check across files
}

// weak reports whether k has a weakness beyond being a private key in the clear.
func (k checkedKey) weak() bool {
	for _, w := range k.Weaknesses {
		if w.ID != "unencrypted-private-key" {
			return true
		}
	}
	return false
}

func newKeysCmd() *cobra.Command {
	var format, config string
	var inv inventoryFlags
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Analyse key files",
	}
	check := &cobra.Command{
		Use:   "check FILE...",
		Short: "Parse every key in the files and report weak, broken or published ones",
		Long: "Finds every key in each file (PEM, DER, OpenSSH, authorized_keys, PuTTY, JWK, X.509,\n" +
			"RSA moduli in hex) and prints one line per key: its type, size, fingerprints and what is\n" +
			"wrong with it (ROCA, Fermat, small factors, small d, short or invalid RSA, a published\n" +
			"example key, weak protection, and primes shared between the RSA keys of all the files).\n" +
			"With an inventory (--inventory, or [[inventory]] in .keywarden.toml), each private key is\n" +
			"also looked up there by its public-key fingerprint: live, retired or unknown.\n" +
			"Exits 1 when any key is weak or compromised, or found in the inventory.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
			if format != "text" && format != "json" && format != "sarif" {
				return fail(fmt.Errorf("unknown --format %q (want text, json or sarif)", format))
			}
			var found []checkedKey
			var readErrs []string
			for _, file := range args {
				data, err := os.ReadFile(file)
				if err != nil {
					readErrs = append(readErrs, err.Error())
					continue
				}
				for _, k := range keys.Parse(data) {
					ck := checkedKey{
						File:       file,
						Line:       1 + bytes.Count(data[:min(k.Offset, len(data))], []byte{'\n'}),
						Key:        scanner.NewKeyInfo(k),
						Weaknesses: keys.Check(k),
					}
					if k.RSA != nil && k.RSA.N != nil {
						ck.rsaN = k.RSA.N
					}
					found = append(found, ck)
				}
			}
			markSharedPrimes(found)
			if config == "" {
				config = defaultConfig()
			}
			if err := checkKeysExposure(c, &inv, config, found); err != nil {
				return fail(err)
			}
			if err := writeChecked(c, format, found); err != nil {
				return fail(err)
			}
			if len(readErrs) > 0 {
				return fail(fmt.Errorf("%s", strings.Join(readErrs, "; ")))
			}
			for _, k := range found {
				if k.weak() || k.Exposure != nil && k.Exposure.Status != hsmcheck.NoMatch {
					return &exitCodeError{code: exitFindings}
				}
			}
			return nil
		},
	}
	check.Flags().StringVarP(&format, "format", "f", "text", "text, json or sarif")
	check.Flags().StringVarP(&config, "config", "c", "", "keywarden config with [[inventory]] tables (default: .keywarden.toml of the current repository)")
	inv.register(check.Flags())
	cmd.AddCommand(check)
	return cmd
}

// checkKeysExposure looks every private key up in the inventories.
func checkKeysExposure(c *cobra.Command, inv *inventoryFlags, config string, found []checkedKey) error {
	specs, _, err := inv.specs(config)
	if err != nil || len(specs) == 0 || len(found) == 0 {
		return err
	}
	warn := stderrWarn(c)
	loaded, done, err := loadInventories(c.Context(), specs, inv.timeout, warn)
	if err != nil {
		return err
	}
	defer done()
	cands := make([]hsmcheck.Candidate, len(found))
	for i, k := range found {
		key := k.Key
		cands[i] = scanner.Candidate(scanner.Finding{Key: &key})
	}
	for i, e := range hsmcheck.Check(c.Context(), loaded, cands, warn) {
		if found[i].Key.Private {
			e := e
			found[i].Exposure = &e
		}
	}
	return nil
}

// markSharedPrimes flags the RSA keys among found whose moduli share a prime, across files.
func markSharedPrimes(found []checkedKey) {
	var idx []int
	var ns []*big.Int
	seen := map[string]bool{}
	for i, k := range found {
		if k.rsaN == nil || seen[k.rsaN.String()] {
			continue
		}
		seen[k.rsaN.String()] = true
		idx = append(idx, i)
		ns = append(ns, k.rsaN)
	}
	if len(ns) < 2 {
		return
	}
	for j, others := range keys.SharedPrimes(ns) {
		w := keys.Catalog["shared-prime"]
		var with []string
		for _, o := range others {
			with = append(with, found[idx[o]].File)
		}
		w.Summary += " (shares a prime with " + strings.Join(with, ", ") + ")"
		found[idx[j]].Weaknesses = append(found[idx[j]].Weaknesses, w)
	}
}

func writeChecked(c *cobra.Command, format string, found []checkedKey) error {
	out := c.OutOrStdout()
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if found == nil {
			found = []checkedKey{}
		}
		for i := range found {
			if found[i].Weaknesses == nil {
				found[i].Weaknesses = []keys.Weakness{}
			}
		}
		return enc.Encode(found)
	case "sarif":
		res := &report.Result{
			Tool:    report.Tool{Name: "keywarden", Version: toolVersion(), InformationURI: "https://github.com/keywarden/keywarden"},
			Source:  "keys",
			Target:  "keys check",
			Started: time.Now().UTC(),
			Rules:   map[string]rules.RuleInfo{},
		}
		if wd, err := os.Getwd(); err == nil {
			res.Root = wd
		}
		for _, k := range found {
			for _, w := range k.Weaknesses {
				if w.ID == "unencrypted-private-key" {
					continue
				}
				res.Rules["weak-key/"+w.ID] = rules.RuleInfo{ID: "weak-key/" + w.ID, Description: w.Summary, Severity: w.Severity, Tags: []string{"key"}}
				key := k.Key
				res.Findings = append(res.Findings, scanner.Finding{
					RuleID: "weak-key/" + w.ID, Description: w.Summary, Severity: w.Severity,
					Fingerprint: key.PublicSHA256, Key: &key, Weaknesses: []keys.Weakness{w},
					Locations: []scanner.Location{{Source: "file", Path: k.File, Line: k.Line}},
				})
			}
		}
		return report.SARIF{}.Write(out, res)
	}
	sort.SliceStable(found, func(a, b int) bool { return found[a].File < found[b].File })
	for _, k := range found {
		desc := k.Key.Type
		if k.Key.Bits > 0 {
			desc += fmt.Sprintf(" %d", k.Key.Bits)
		}
		if k.Key.Curve != "" {
			desc += " " + k.Key.Curve
		}
		if k.Key.Private {
			desc += " private"
		} else {
			desc += " public"
		}
		if k.Key.Encrypted {
			desc += " encrypted"
		}
		fps := k.Key.SSHFingerprint
		if k.Key.PublicSHA256 != "" {
			fps = strings.TrimSpace(fps + " spki-sha256:" + k.Key.PublicSHA256[:min(16, len(k.Key.PublicSHA256))])
		}
		var why []string
		for _, w := range k.Weaknesses {
			why = append(why, w.ID)
		}
		verdict := "ok"
		if len(why) > 0 {
			verdict = strings.Join(why, ", ")
		}
		if e := k.Exposure; e != nil && e.Status != hsmcheck.NoMatch {
			var ms []string
			for _, m := range e.Matches {
				ms = append(ms, fmt.Sprintf("%s in %s (%s)", m.Ref(), m.Inventory, m.State))
			}
			verdict += "; " + strings.ToUpper(e.Status) + ": " + strings.Join(ms, ", ")
		}
		fmt.Fprintf(out, "%s:%d: %s (%s) %s: %s\n", k.File, k.Line, desc, k.Key.Format, fps, verdict)
		for _, w := range k.Weaknesses {
			if w.ID != "unencrypted-private-key" {
				fmt.Fprintf(out, "    %s (%s): %s  [%s]\n", w.ID, w.Severity, w.Summary, w.Reference)
			}
		}
	}
	if len(found) == 0 {
		fmt.Fprintln(out, "no keys found")
	}
	return nil
}
