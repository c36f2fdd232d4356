package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/all"
	"github.com/keywarden/keywarden/hsmcheck/file"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/rules/keyfind"
	"github.com/keywarden/keywarden/scanner"
)

// inventoryFlags select the key inventories a command checks.
type inventoryFlags struct {
	uris        []string
	kmsEndpoint string
	none        bool
	timeout     time.Duration
}

// defaultInventoryTimeout bounds how long the inventories may take to open and list their keys.
// Listing a large KMS account, throttled, takes minutes; a backend that never answers (an
// endpoint behind a firewall that drops packets: the AWS SDK sets no response timeout) must not
// hold a CI job until it is killed.
const defaultInventoryTimeout = 5 * time.Minute

func (f *inventoryFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.timeout, "inventory-timeout", defaultInventoryTimeout, "skip the inventories when they have not listed their keys within this time (0: wait as long as they take)")
	fs.StringArrayVar(&f.uris, "inventory", nil, "check findings against this key inventory (repeatable): pkcs11:MODULE?token=LABEL, kmip://HOST:PORT?ca=&cert=&key=, awskms://REGION, vault://HOST:PORT/MOUNT, openbao://…, file:PATH; adds to the config's [[inventory]] tables")
	fs.StringVar(&f.kmsEndpoint, "kms-endpoint", "", "AWS KMS endpoint URL for awskms inventories that name none (LocalStack, local-kms)")
	fs.BoolVar(&f.none, "no-inventory", false, "do not check the config's [[inventory]] tables")
}

// specs returns the inventories to check: the config's (unless --no-inventory) and the flags'.
func (f *inventoryFlags) specs(configPath string) ([]hsmcheck.Spec, hsmcheck.Policy, error) {
	if f.none {
		configPath = ""
	}
	return all.Specs(all.Options{ConfigPath: configPath, URIs: f.uris, KMSEndpoint: f.kmsEndpoint})
}

// crossCheckOpen marks every finding live, retired or unknown against the inventories and
// leaves them open for the caller (to rotate what it found) until it calls done. Backends that
// cannot be reached are reported through warn and recorded as skipped; an error means the
// inventory configuration itself is wrong.
func crossCheckOpen(ctx context.Context, f *inventoryFlags, configPath string, res *scanner.Result, warn func(error)) ([]*hsmcheck.Loaded, func(), error) {
	specs, _, err := f.specs(configPath)
	if err != nil || len(specs) == 0 || len(res.Findings) == 0 {
		return nil, func() {}, err
	}
	loaded, done, err := loadInventories(ctx, specs, f.timeout, warn)
	if err != nil {
		return nil, func() {}, err
	}
	scanner.CrossCheck(ctx, res, loaded, warn)
	return loaded, done, nil
}

// openInventories opens and lists the inventories a scan is checked against, before the scan:
// a dump scan's prime search needs the RSA moduli they hold. Nil when none are configured.
func openInventories(ctx context.Context, f *inventoryFlags, configPath string, warn func(error)) ([]*hsmcheck.Loaded, func(), error) {
	specs, _, err := f.specs(configPath)
	if err != nil || len(specs) == 0 {
		return nil, func() {}, err
	}
	return loadInventories(ctx, specs, f.timeout, warn)
}

// inventoryModuli are the RSA public keys the inventories hold, for the prime search.
func inventoryModuli(loaded []*hsmcheck.Loaded) []keyfind.Modulus {
	var out []keyfind.Modulus
	for _, l := range loaded {
		for _, k := range l.Keys {
			if pub := k.RSAPublic(); pub != nil {
				out = append(out, keyfind.Modulus{Key: pub, Where: fmt.Sprintf("%s in %s", k.Ref(), l.Inventory.Name())})
			}
		}
	}
	return out
}

// loadInventories opens and lists every backend, warning about each one it had to skip. When
// they have not all answered within timeout (0: no limit), every one is skipped: the command
// goes on without the cross-check, as it does for one backend that cannot be reached.
func loadInventories(ctx context.Context, specs []hsmcheck.Spec, timeout time.Duration, warn func(error)) ([]*hsmcheck.Loaded, func(), error) {
	noteCredentialFiles(specs)
	lctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	loaded, done, err := all.Load(lctx, specs)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		// all.Load keeps nothing once its context ends, so no backend is known to have
		// answered. TODO(#11): a request timeout per backend, so that the others are kept.
		why := fmt.Errorf("no answer within %s (--inventory-timeout)", timeout)
		loaded, done, err = nil, func() {}, nil
		for _, s := range specs {
			loaded = append(loaded, &hsmcheck.Loaded{Inventory: unanswered(s.DisplayName(s.Redacted())), Err: why})
		}
	}
	if err != nil {
		return nil, nil, err
	}
	for _, l := range loaded {
		// Reports, the audit log and warnings take the message from here.
		l.Err = scrubErr(l.Err)
		if l.Err != nil {
			warn(fmt.Errorf("inventory %s skipped: %w", l.Inventory.Name(), l.Err))
		}
	}
	return loaded, done, nil
}

// unanswered stands for an inventory that did not answer in time, in warnings and reports.
type unanswered string

func (u unanswered) Name() string { return string(u) }
func (u unanswered) Keys(context.Context, func(hsmcheck.Key) error) error {
	return hsmcheck.ErrUnsupported
}

// stderrWarn prints warnings the way scan does, one line each.
func stderrWarn(c *cobra.Command) func(error) {
	return func(err error) { fmt.Fprintf(c.ErrOrStderr(), "keywarden: warning: %s\n", oneLine(err)) }
}

// defaultConfig is the keywarden config of the current directory's repository, or of the
// directory itself, for commands that scan nothing.
func defaultConfig() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, scanner.ConfigFiles[0])
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil || filepath.Dir(d) == d {
			return ""
		}
	}
}

func newInventoryCmd() *cobra.Command {
	var inv inventoryFlags
	var config string
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "List, export and audit the key inventory (HSMs, KMIP, AWS KMS, Vault/OpenBao transit, inventory file)",
		Long: "The inventory is every backend named by the config's [[inventory]] tables and by --inventory.\n" +
			"Credentials come from the environment or from files, never from flags: KEYWARDEN_PKCS11_PIN\n" +
			"or pin-file=, the AWS SDK's usual chain, VAULT_TOKEN/BAO_TOKEN or token-file=, and KMIP\n" +
			"client certificates named by cert= and key=.",
	}
	pf := cmd.PersistentFlags()
	inv.register(pf)
	pf.StringVarP(&config, "config", "c", "", "keywarden config with [[inventory]] tables (default: .keywarden.toml of the current repository)")

	load := func(c *cobra.Command) ([]*hsmcheck.Loaded, hsmcheck.Policy, func(), error) {
		if config == "" {
			config = defaultConfig()
		}
		specs, pol, err := inv.specs(config)
		if err != nil {
			return nil, pol, nil, err
		}
		if len(specs) == 0 {
			return nil, pol, nil, errors.New("no inventory: name one with --inventory or an [[inventory]] table in .keywarden.toml")
		}
		loaded, done, err := loadInventories(c.Context(), specs, inv.timeout, stderrWarn(c))
		return loaded, pol, done, err
	}
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }

	var listFormat string
	list := &cobra.Command{
		Use:   "list",
		Short: "List every key with its state, scope and fingerprint",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			loaded, _, done, err := load(c)
			if err != nil {
				return fail(err)
			}
			defer done()
			if err := writeInventoryList(c.OutOrStdout(), listFormat, loaded); err != nil {
				return fail(err)
			}
			return skippedErr(loaded)
		},
	}
	list.Flags().StringVarP(&listFormat, "format", "f", "text", "text or json")

	var exportOut, merge string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write an inventory file (" + file.DefaultName + ") from the backends",
		Long: "Writes every backend key as an inventory-file entry: id, label, algorithm, state, scope,\n" +
			"dates, location and fingerprints (SPKI SHA-256, KCV). Owner, purpose and rotation period are\n" +
			"for people to fill in; --merge carries them over from an existing file.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			loaded, _, done, err := load(c)
			if err != nil {
				return fail(err)
			}
			defer done()
			var old *file.Document
			if merge != "" {
				b, err := os.ReadFile(merge)
				if err != nil {
					return fail(fmt.Errorf("reading --merge: %w", err))
				}
				old = &file.Document{}
				if err := yaml.Unmarshal(b, old); err != nil {
					return fail(fmt.Errorf("parsing --merge %q: %w", merge, err))
				}
			}
			doc := file.Document{Version: 1}
			if old != nil {
				doc.TokenSalt = old.TokenSalt
			}
			backends := 0
			for _, l := range loaded {
				if d, ok := l.Inventory.(hsmcheck.Declarative); ok && d.DeclaresKeys() || l.Err != nil {
					continue
				}
				backends++
				doc.Keys = append(doc.Keys, file.Entries(l.Inventory.Name(), l.Keys, old)...)
			}
			if backends == 0 {
				if err := skippedErr(loaded); err != nil {
					return err
				}
				return fail(errors.New("no backend to export from: an inventory file only declares keys; name an HSM or KMS"))
			}
			if old != nil {
				// Entries for tokens and for backends not listed this time stay as they were.
				for _, e := range old.Keys {
					if e.Fingerprints.TokenHMAC != "" || !listed(loaded, e.Location) {
						doc.Keys = append(doc.Keys, e)
					}
				}
			}
			b, err := yaml.Marshal(doc)
			if err != nil {
				return fail(fmt.Errorf("encoding inventory: %w", err))
			}
			b = append([]byte("# keywarden inventory, exported "+time.Now().UTC().Format(time.RFC3339)+"\n# Fill in owner, purpose and rotation_period; keep it next to the code it protects.\n"), b...)
			if exportOut == "" || exportOut == "-" {
				_, err = c.OutOrStdout().Write(b)
			} else {
				err = writeFile0600(exportOut, b)
			}
			if err != nil {
				return fail(err)
			}
			return skippedErr(loaded)
		},
	}
	export.Flags().StringVarP(&exportOut, "output", "o", "", "write the file here (mode 0600) instead of stdout")
	export.Flags().StringVar(&merge, "merge", "", "carry owner, purpose, rotation period and token entries over from this inventory file")

	var auditFormat, auditOut string
	audit := &cobra.Command{
		Use:   "audit",
		Short: "Audit the inventory's own hygiene",
		Long: "Reports keys older than their cryptoperiod (NIST SP 800-57 Part 1 defaults per usage,\n" +
			"[inventory_policy.cryptoperiods] overrides them), extractable or non-sensitive HSM keys, KMS\n" +
			"keys with automatic rotation off, keys still usable after their end date, inventory-file\n" +
			"entries missing from every backend and backend keys missing from the file, the same key\n" +
			"material under several labels or scopes, and entries with no owner or purpose.\n" +
			"Exits 1 when there is anything to report.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			w, err := report.ByName(auditFormat)
			if err != nil {
				return fail(err)
			}
			var rf *reportFile
			if auditOut != "" && auditOut != "-" {
				if rf, err = createReportFile(auditOut); err != nil {
					return fail(err)
				}
				defer rf.discard()
			}
			started := time.Now()
			loaded, pol, done, err := load(c)
			if err != nil {
				return fail(err)
			}
			defer done()
			issues := hsmcheck.Audit(loaded, pol)
			res := &report.Result{
				Tool:        report.Tool{Name: "keywarden", Version: toolVersion(), InformationURI: "https://github.com/keywarden/keywarden"},
				Source:      "inventory",
				Target:      "inventory audit",
				Started:     started.UTC(),
				Findings:    report.AuditFindings(issues),
				Inventories: inventoryStatus(loaded),
			}
			res.Rules = report.AuditRules(res.Findings)
			res.Stats.Duration = time.Since(started)
			if rf != nil {
				err = rf.commit(w, res)
			} else {
				err = w.Write(c.OutOrStdout(), res)
			}
			if err != nil {
				return fail(err)
			}
			if err := skippedErr(loaded); err != nil {
				return err
			}
			if len(issues) > 0 {
				return &exitCodeError{code: exitFindings}
			}
			return nil
		},
	}
	audit.Flags().StringVarP(&auditFormat, "format", "f", "text", "report format: "+strings.Join(report.Formats, ", "))
	audit.Flags().StringVarP(&auditOut, "output", "o", "", "write the report to this file (mode 0600) instead of stdout")

	hash := &cobra.Command{
		Use:   "hash-token",
		Short: "Print the token_hmac of a token read from stdin, for an inventory file entry",
		Long: "Reads one API token from stdin (never from the command line, which shell history keeps) and\n" +
			"prints HMAC-SHA256(token_salt, token) in hex, the inventory file's token_hmac for it. The salt\n" +
			"is the token_salt of the inventory file named by --inventory file:PATH.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var salt []byte
			for _, u := range inv.uris {
				s, err := hsmcheck.ParseSpec(u)
				if err != nil {
					return fail(err)
				}
				if s.Scheme() != "file" {
					continue
				}
				fi, err := file.Open(c.Context(), s)
				if err != nil {
					return fail(err)
				}
				salt = fi.(hsmcheck.TokenSalter).TokenSalt()
				if salt == nil {
					return fail(fmt.Errorf("inventory %s has no token_salt; add one, for example token_salt: %s", fi.Name(), randomHex(32)))
				}
				break
			}
			if salt == nil {
				return fail(errors.New("name the inventory file whose salt to use with --inventory file:PATH"))
			}
			line, err := bufio.NewReader(c.InOrStdin()).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fail(fmt.Errorf("reading the token from stdin: %w", err))
			}
			token := strings.TrimRight(line, "\r\n")
			if token == "" {
				return fail(errors.New("no token on stdin"))
			}
			fmt.Fprintln(c.OutOrStdout(), hex.EncodeToString(hsmcheck.TokenHMAC(salt, token)))
			return nil
		},
	}
	cmd.AddCommand(list, export, audit, hash)
	return cmd
}

// skippedErr fails a command whose whole point is the inventory when a backend was skipped:
// a list or audit that silently left one out would read as complete.
func skippedErr(loaded []*hsmcheck.Loaded) error {
	var names []string
	for _, l := range loaded {
		if l.Err != nil {
			names = append(names, l.Inventory.Name())
		}
	}
	if len(names) == 0 {
		return nil
	}
	return &exitCodeError{code: exitError, err: fmt.Errorf("inventory not read: %s", strings.Join(names, ", "))}
}

func listed(loaded []*hsmcheck.Loaded, name string) bool {
	for _, l := range loaded {
		if l.Inventory.Name() == name && l.Err == nil {
			return true
		}
	}
	return false
}

func inventoryStatus(loaded []*hsmcheck.Loaded) []scanner.InventoryStatus {
	var out []scanner.InventoryStatus
	for _, l := range loaded {
		st := scanner.InventoryStatus{Name: l.Inventory.Name(), Keys: len(l.Keys)}
		if l.Err != nil {
			st.Skipped = oneLine(l.Err)
		}
		out = append(out, st)
	}
	return out
}

// oneLine is err's message on one line, with credentials scrubbed, for warnings, reports and
// the audit log.
func oneLine(err error) string { return scrub(strings.ReplaceAll(err.Error(), "\n", "; ")) }

// listedKey is one key of inventory list's JSON output.
type listedKey struct {
	Inventory string `json:"inventory"`
	hsmcheck.Key
	SPKISHA256 string `json:"spki_sha256,omitempty"`
	KCV        string `json:"kcv,omitempty"`
}

func writeInventoryList(w io.Writer, format string, loaded []*hsmcheck.Loaded) error {
	switch format {
	case "json":
		out := []listedKey{}
		for _, l := range loaded {
			for _, k := range l.Keys {
				lk := listedKey{Inventory: l.Inventory.Name(), Key: k}
				if k.HasSPKI() {
					lk.SPKISHA256 = hex.EncodeToString(k.SPKIHash[:])
				}
				lk.KCV = hex.EncodeToString(k.CheckValue)
				out = append(out, lk)
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "text":
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "INVENTORY\tKEY\tCLASS\tALGORITHM\tSTATE\tSCOPE\tFINGERPRINT")
		for _, l := range loaded {
			for _, k := range l.Keys {
				fp := ""
				switch {
				case k.HasSPKI():
					fp = "spki-sha256:" + hex.EncodeToString(k.SPKIHash[:8])
				case len(k.CheckValue) > 0:
					fp = "kcv:" + hex.EncodeToString(k.CheckValue)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Inventory.Name(), k.Ref(), k.Class, k.Algorithm, k.State, k.Scope, fp)
			}
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown --format %q (want text or json)", format)
}

// writeFile0600 writes b the way reports are written: mode 0600, renamed into place whole.
func writeFile0600(name string, b []byte) error {
	rf, err := createReportFile(name)
	if err != nil {
		return err
	}
	defer rf.discard()
	return rf.commit(rawBytes(b), nil)
}

// rawBytes is a report.Writer of bytes already rendered.
type rawBytes []byte

func (b rawBytes) Write(w io.Writer, _ *report.Result) error {
	_, err := w.Write(b)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
