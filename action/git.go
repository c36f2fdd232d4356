package action

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// git runs git commands in one repository.
type git struct {
	dir string
	log io.Writer // where commands that change the repository (fetch) print
}

// commitID matches a full SHA-1 or SHA-256 commit ID. Event fields are checked against it
// before they reach a command line, so that none can pass as an option.
var commitID = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// zeroCommit reports whether id is git's all-zeros ID (no commit: a created or deleted ref).
func zeroCommit(id string) bool { return id != "" && strings.Trim(id, "0") == "" }

func (g git) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.dir}, args...)...)
	// A fetch must fail, not wait for a password nobody will type.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	return cmd
}

// output runs a query and returns its stdout, trimmed.
func (g git) output(ctx context.Context, args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := g.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("running git %s: %w%s", args[0], err, lastLine(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// run runs a command that prints progress or errors to the log.
func (g git) run(ctx context.Context, args ...string) error {
	cmd := g.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = g.log, g.log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running git %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// lastLine returns ": " and the last non-empty line of s, or "" if there is none.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return ": " + l
	}
	return ""
}

func (g git) shallow(ctx context.Context) (bool, error) {
	out, err := g.output(ctx, "rev-parse", "--is-shallow-repository")
	return out == "true", err
}

// unshallow fetches the full history of every branch and tag of origin. Range scans need the
// commits between their ends and new-branch scans need every other branch; actions/checkout's
// default fetch-depth of 1 gives neither.
func (g git) unshallow(ctx context.Context) error {
	return g.run(ctx, "fetch", "--unshallow", "--quiet", "origin",
		"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
}

func (g git) hasCommit(ctx context.Context, id string) bool {
	_, err := g.output(ctx, "cat-file", "-e", id+"^{commit}")
	return err == nil
}

// ensureCommit fetches commit id from origin unless the repository has it (GitHub serves any
// commit by ID, pull request heads from forks included).
func (g git) ensureCommit(ctx context.Context, id string) error {
	if !commitID.MatchString(id) {
		return fmt.Errorf("checking commit %q: not a full commit ID", id)
	}
	if g.hasCommit(ctx, id) {
		return nil
	}
	if err := g.run(ctx, "fetch", "--quiet", "--no-tags", "origin", id); err != nil {
		return fmt.Errorf("fetching commit %s: %w", id, err)
	}
	if !g.hasCommit(ctx, id) {
		return fmt.Errorf("fetching commit %s: origin did not send it", id)
	}
	return nil
}

// parents returns the parents of commit id.
func (g git) parents(ctx context.Context, id string) ([]string, error) {
	out, err := g.output(ctx, "rev-list", "--parents", "-n", "1", id)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return nil, fmt.Errorf("listing parents of %s: no output", id)
	}
	return f[1:], nil
}

// remoteBranches returns origin's remote-tracking refs (refs/remotes/origin/*), leaving out
// symbolic ones such as origin/HEAD, which only repeat another ref.
func (g git) remoteBranches(ctx context.Context) ([]string, error) {
	out, err := g.output(ctx, "for-each-ref", "--format=%(refname) %(symref)", "refs/remotes/origin/")
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, line := range strings.Split(out, "\n") {
		name, sym, _ := strings.Cut(line, " ")
		if name != "" && sym == "" {
			refs = append(refs, name)
		}
	}
	return refs, nil
}

// topLevel returns the work tree's root directory.
func (g git) topLevel(ctx context.Context) (string, error) {
	return g.output(ctx, "rev-parse", "--show-toplevel")
}
