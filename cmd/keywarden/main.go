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

// Exit codes: 0 clean, 1 findings (changeable with --exit-code), 2 error, 130 interrupted
// (143 for SIGTERM, see interrupted).
const (
	exitClean       = 0
	exitFindings    = 1
	exitError       = 2
	exitInterrupted = 130
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
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		// A second signal gets the default behaviour: an impatient user can still kill a run
		// whose partial report is taking long.
		signal.Stop(sigs)
		cancel(interrupted{s})
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(code)
}

// interrupted is the cause of the context a signal ends: a scan writes what it found so far,
// marked incomplete, and exits 128 plus the signal's number (130 for SIGINT, 143 for SIGTERM),
// as a shell reports a process the signal killed.
type interrupted struct{ sig os.Signal }

func (e interrupted) Error() string {
	name := e.sig.String()
	switch e.sig {
	case os.Interrupt:
		name = "SIGINT"
	case syscall.SIGTERM:
		name = "SIGTERM"
	}
	return "interrupted (" + name + ")"
}

// Is lets the cause stand for the context.Canceled that ctx.Err() gives.
func (e interrupted) Is(target error) bool { return target == context.Canceled }

// interruptCode is the exit code of a run ctx's end stopped: 128 plus the signal's number,
// or 130 (SIGINT's) when it was cancelled otherwise.
func interruptCode(ctx context.Context) int {
	var in interrupted
	if errors.As(context.Cause(ctx), &in) {
		if s, ok := in.sig.(syscall.Signal); ok {
			return 128 + int(s)
		}
	}
	return exitInterrupted
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
	msg := scrub(strings.ReplaceAll(err.Error(), "\n", " "))
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
