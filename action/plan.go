package action

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// event holds the fields of a workflow event payload that choose what to scan.
type event struct {
	Ref         string `json:"ref"`
	Before      string `json:"before"`
	After       string `json:"after"`
	Deleted     bool   `json:"deleted"`
	PullRequest *struct {
		Number int `json:"number"`
		Base   struct {
			SHA string `json:"sha"`
		} `json:"base"`
		Head struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
	MergeGroup *struct {
		BaseSHA string `json:"base_sha"`
		HeadSHA string `json:"head_sha"`
	} `json:"merge_group"`
}

// readEvent reads the payload at path; an empty path gives an empty event.
func readEvent(path string) (*event, error) {
	ev := &event{}
	if path == "" {
		return ev, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading event payload: %w", err)
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("decoding event payload %q: %w", path, err)
	}
	return ev, nil
}

// scanPlan is what keywarden scans and how the summary describes it.
type scanPlan struct {
	args     []string // keywarden's arguments, from "scan" on, without the report flags
	scope    string   // Markdown: what was scanned
	category string   // SARIF category: each kind of scan replaces only its own alerts
	skip     string   // non-empty: there is nothing to scan, and this says why
}

// Categories of SARIF uploads. Code scanning closes an alert when the next analysis of the
// same category on the same ref lacks it, so range scans must not share the category of
// full-history scans.
const (
	categoryHistory     = "keywarden/history"
	categoryPush        = "keywarden/push"
	categoryPullRequest = "keywarden/pull-request"
	categoryMergeGroup  = "keywarden/merge-group"
	categoryDir         = "keywarden/dir"
	categoryImage       = "keywarden/image"
)

// planGit chooses the commits of a git scan from the event, fetching what a shallow or
// partial checkout lacks. target is the repository as keywarden should be given it.
func planGit(ctx context.Context, g git, eventName string, ev *event, target string, notice func(string)) (scanPlan, error) {
	shallow, err := g.shallow(ctx)
	if err != nil {
		return scanPlan{}, fmt.Errorf("opening repository %q: %w", target, err)
	}
	if shallow {
		notice("the repository is a shallow clone: fetching its full history (check out with fetch-depth: 0 to skip this)")
		if err := g.unshallow(ctx); err != nil {
			return scanPlan{}, fmt.Errorf("fetching the full history of shallow clone %q (check out with fetch-depth: 0): %w", target, err)
		}
	}
	scan := func(extra ...string) []string { return append([]string{"scan", "git", operand(target)}, extra...) }

	switch eventName {
	case "pull_request", "pull_request_target":
		pr := ev.PullRequest
		if pr == nil {
			return scanPlan{}, fmt.Errorf("reading %s event: no pull_request in the payload", eventName)
		}
		if err := ensureAll(ctx, g, pr.Base.SHA, pr.Head.SHA); err != nil {
			return scanPlan{}, err
		}
		return scanPlan{
			args:     scan("--range", pr.Base.SHA+".."+pr.Head.SHA),
			scope:    fmt.Sprintf("pull request #%d: the commits in %s", pr.Number, mdRange(pr.Base.SHA, pr.Head.SHA)),
			category: categoryPullRequest,
		}, nil

	case "merge_group":
		mg := ev.MergeGroup
		if mg == nil {
			return scanPlan{}, errors.New("reading merge_group event: no merge_group in the payload")
		}
		if err := ensureAll(ctx, g, mg.BaseSHA, mg.HeadSHA); err != nil {
			return scanPlan{}, err
		}
		return scanPlan{
			args:     scan("--range", mg.BaseSHA+".."+mg.HeadSHA),
			scope:    "merge group: the commits in " + mdRange(mg.BaseSHA, mg.HeadSHA),
			category: categoryMergeGroup,
		}, nil

	case "push":
		return planPush(ctx, g, ev, scan, notice)
	}

	scope := "the full history of every ref"
	if eventName != "schedule" && eventName != "workflow_dispatch" {
		scope += fmt.Sprintf(" (event %s has no commit range)", mdCode(cmp.Or(eventName, "unknown")))
	}
	return scanPlan{args: scan(), scope: scope, category: categoryHistory}, nil
}

func planPush(ctx context.Context, g git, ev *event, scan func(...string) []string, notice func(string)) (scanPlan, error) {
	ref := mdCode(ev.Ref)
	if ev.Deleted || ev.After == "" || zeroCommit(ev.After) {
		return scanPlan{skip: "the push deleted " + ref + ": there is nothing to scan", category: categoryPush}, nil
	}
	if err := g.ensureCommit(ctx, ev.After); err != nil {
		return scanPlan{}, err
	}
	switch {
	case ev.Before == "" || zeroCommit(ev.Before):
		return planNewRef(ctx, g, ev, scan, "new ")
	case ev.Before == ev.After:
		return planOneCommit(ctx, g, ev.After, scan)
	}
	if err := g.ensureCommit(ctx, ev.Before); err != nil {
		// A force-push may leave before unreachable and gone; what the remote already has
		// is then the best measure of what is new.
		notice(fmt.Sprintf("cannot read the commit before the push (%v): scanning the commits of %s that no other branch has", err, ev.Ref))
		return planNewRef(ctx, g, ev, scan, "")
	}
	return scanPlan{
		args:     scan("--range", ev.Before+".."+ev.After),
		scope:    "push to " + ref + ": the commits in " + mdRange(ev.Before, ev.After),
		category: categoryPush,
	}, nil
}

// planNewRef scans the commits of a pushed ref that no other branch of origin has: every
// remote-tracking ref except the pushed branch's own is left out with --not.
func planNewRef(ctx context.Context, g git, ev *event, scan func(...string) []string, adjective string) (scanPlan, error) {
	refs, err := g.remoteBranches(ctx)
	if err != nil {
		return scanPlan{}, err
	}
	own := ""
	if b, ok := strings.CutPrefix(ev.Ref, "refs/heads/"); ok {
		own = "refs/remotes/origin/" + b
	}
	args := []string{"--branch", ev.After}
	n := 0
	for _, r := range refs {
		if r != own {
			args = append(args, "--not", r)
			n++
		}
	}
	kind := "ref"
	switch {
	case strings.HasPrefix(ev.Ref, "refs/heads/"):
		kind = "branch"
	case strings.HasPrefix(ev.Ref, "refs/tags/"):
		kind = "tag"
	}
	scope := fmt.Sprintf("push of %s%s %s: the commits up to %s that no other branch has (%d %s left out)",
		adjective, kind, mdCode(ev.Ref), mdCode(short(ev.After)), n, plural(n, "branch", "branches"))
	if n == 0 {
		scope = fmt.Sprintf("push of %s%s %s: the full history of %s (there is no other branch to compare with)",
			adjective, kind, mdCode(ev.Ref), mdCode(short(ev.After)))
	}
	return scanPlan{args: scan(args...), scope: scope, category: categoryPush}, nil
}

// planOneCommit scans commit id alone: what it changed against each of its parents, or its
// whole tree when it is a root commit.
func planOneCommit(ctx context.Context, g git, id string, scan func(...string) []string) (scanPlan, error) {
	parents, err := g.parents(ctx, id)
	if err != nil {
		return scanPlan{}, err
	}
	var args []string
	switch len(parents) {
	case 0:
		args = []string{"--branch", id}
	case 1:
		args = []string{"--range", parents[0] + ".." + id}
	default: // a merge: P1..id would also scan the merged branch's commits
		args = []string{"--branch", id}
		for _, p := range parents {
			args = append(args, "--not", p)
		}
	}
	return scanPlan{
		args:     scan(args...),
		scope:    "commit " + mdCode(short(id)) + " alone (the push did not move the branch)",
		category: categoryPush,
	}, nil
}

func ensureAll(ctx context.Context, g git, ids ...string) error {
	for _, id := range ids {
		if err := g.ensureCommit(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// short abbreviates a commit ID for display.
func short(id string) string {
	if len(id) > 7 {
		return id[:7]
	}
	return id
}

func mdRange(a, b string) string { return mdCode(short(a) + ".." + short(b)) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
