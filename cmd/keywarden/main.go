// Command keywarden finds secrets in git history and directories, judges the keys it finds,
// and reports them as text, JSON, SARIF or CSV.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes: 0 clean, 1 findings (changeable with --exit-code), 2 error.
const (
	exitClean    = 0
	exitFindings = 1
	exitError    = 2
)

// version is set by -ldflags "-X main.version=..." in release builds.
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// exitCodeError carries an exit code out of a RunE without printing twice.
type exitCodeError struct {
	code int
	err  error // nil when only the code matters (findings)
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitCodeError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI with the process's standard input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runIO(ctx, args, os.Stdin, stdout, stderr)
}

// runIO executes the CLI and maps the outcome to an exit code; it never panics out.
func runIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "keywarden: internal error: %v\n", r)
			code = exitError
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	c, err := root.ExecuteContextC(withArgs(ctx, args))
	if err == nil {
		return exitClean
	}
	var ce *exitCodeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			printErr(stderr, nextStep(c, ce.err))
		}
		return ce.code
	}
	printErr(stderr, nextStep(c, err))
	return exitError
}

// printErr prints an error as one line, so CI logs stay readable.
func printErr(w io.Writer, err error) {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintf(w, "keywarden: %s\n", msg)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "keywarden",
		Short:         "Find secrets in git history and directories, and judge the keys found",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       toolVersion(),
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitCodeError{code: exitError, err: fmt.Errorf("%s: %w", c.CommandPath(), err)}
	})
	root.AddCommand(newScanCmd(), newHookCmd(), newKeysCmd(), newInventoryCmd(), newRotateCmd(), newAuditCmd(), newReportCmd())
	root.AddCommand(newRulesCmd(), newVersionCmd())
	addColorFlag(root)
	registerCompletions(root)
	return root
}
