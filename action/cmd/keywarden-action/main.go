// Command keywarden-action is the program action.yml runs: see package action and
// docs/github-action.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/keywarden/keywarden/action"
)

func main() {
	deferExit := flag.Bool("defer-exit", false, "exit 0 once the outputs are written, leaving the job's exit code to the exit-code output")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "keywarden-action: takes no arguments; inputs come from INPUT_* variables")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := action.Run(ctx, os.Getenv, os.Stdout, os.Stderr)
	stop()
	// Findings must not fail the scan step: action.yml uploads the SARIF file first and fails
	// the job in its last step. An error (2) has no SARIF to upload, so it fails the step where
	// it happened.
	if *deferExit && code == 1 {
		code = 0
	}
	os.Exit(code)
}
