package report

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/scanner"
)

// Merge merges keywarden JSON reports, the shards of an audit or scans of several
// repositories, into one. Findings with the same fingerprint become one finding with every
// location; repositories, skipped blobs and stats add up. A single-target report's locations
// are attributed to its target, so that merged scans of two repositories stay apart. Warnings
// say what the merge cannot vouch for (a missing shard); an error means the reports do not
// belong together. names label the reports in messages.
func Merge(reps []*JSONReport, names []string) (merged *JSONReport, warnings []string, err error) {
	if len(reps) == 0 {
		return nil, nil, errors.New("merging reports: no reports")
	}
	out := &JSONReport{
		SchemaVersion: SchemaVersion,
		Tool:          reps[0].Tool,
		Scan:          JSONScan{Source: reps[0].Scan.Source},
		Findings:      []JSONFinding{},
		Skipped:       []JSONSkipped{},
	}
	var (
		shardN   int
		shardOf  = map[int]string{}
		end      time.Time
		repoIdx  = map[string]int{}
		invIdx   = map[string]bool{}
		findings []scanner.Finding
		extra    = map[string]JSONFinding{} // fingerprint → the JSON-only fields of its first finding
		offsets  = map[int64]*int64{}       // one pointer per binary offset
	)
	for k, rep := range reps {
		name := names[k]
		if rep.Shard != "" {
			i, n, err := scanner.ParseShard(rep.Shard)
			if err != nil {
				return nil, nil, fmt.Errorf("merging %q: %w", name, err)
			}
			if shardN != 0 && n != shardN {
				return nil, nil, fmt.Errorf("merging %q: shard %s is of %d shards, the others of %d", name, rep.Shard, n, shardN)
			}
			if prev, dup := shardOf[i]; dup {
				return nil, nil, fmt.Errorf("merging %q: shard %s is also in %q (merge each shard once)", name, rep.Shard, prev)
			}
			shardN, shardOf[i] = n, name
		}
		if out.Scan.Source != rep.Scan.Source {
			out.Scan.Source = "mixed"
		}
		if !rep.Scan.Started.IsZero() {
			if out.Scan.Started.IsZero() || rep.Scan.Started.Before(out.Scan.Started) {
				out.Scan.Started = rep.Scan.Started
			}
			if e := rep.Scan.Started.Add(time.Duration(rep.Stats.DurationMS) * time.Millisecond); e.After(end) {
				end = e
			}
		}
		// A single-target report names its repository once, in the target.
		repo := ""
		if len(rep.Repos) == 0 {
			repo = rep.Scan.Target
			rep.Repos = []scanner.RepoStatus{{
				Repo: repo, Status: scanner.RepoOK, Blobs: rep.Stats.Blobs, Bytes: rep.Stats.Bytes,
				Commits: rep.Stats.Commits, Findings: len(rep.Findings), DurationMS: rep.Stats.DurationMS,
			}}
		}
		for _, r := range rep.Repos {
			// The same repository in two reports (scanned twice): keep a success over a failure.
			if i, ok := repoIdx[r.Repo]; ok {
				if out.Repos[i].Status != scanner.RepoOK {
					out.Repos[i] = r
				}
				continue
			}
			repoIdx[r.Repo] = len(out.Repos)
			out.Repos = append(out.Repos, r)
		}
		for _, inv := range rep.Inventories {
			if !invIdx[inv.Name] {
				invIdx[inv.Name] = true
				out.Inventories = append(out.Inventories, inv)
			}
		}
		for _, f := range rep.Findings {
			sf := f.finding()
			for i := range sf.Locations {
				if sf.Locations[i].Repo == "" {
					sf.Locations[i].Repo = repo
				}
				// Locations are compared with ==: the same offset must be the same pointer, or
				// one place in a dump named by two reports would be listed twice.
				if p := sf.Locations[i].Offset; p != nil {
					if q, ok := offsets[*p]; ok {
						sf.Locations[i].Offset = q
					} else {
						offsets[*p] = p
					}
				}
			}
			if _, ok := extra[f.Fingerprint]; !ok {
				extra[f.Fingerprint] = f
			}
			findings = append(findings, sf)
		}
		for _, s := range rep.Skipped {
			if repo != "" {
				s.Path = repo + ": " + s.Path
			}
			out.Skipped = append(out.Skipped, s)
		}
		out.Stats.Blobs += rep.Stats.Blobs
		out.Stats.Bytes += rep.Stats.Bytes
		out.Stats.ScannedBytes += rep.Stats.ScannedBytes
		out.Stats.Skipped += rep.Stats.Skipped
		out.Stats.Commits += rep.Stats.Commits
		out.Incomplete = out.Incomplete || rep.Incomplete // a merge is no more complete than its parts
	}
	if !end.IsZero() {
		out.Stats.DurationMS = end.Sub(out.Scan.Started).Milliseconds()
	}
	if shardN > 0 {
		var missing []string
		for i := 1; i <= shardN; i++ {
			if _, ok := shardOf[i]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", i, shardN))
			}
		}
		if len(missing) > 0 {
			warnings = append(warnings, fmt.Sprintf("shard %s missing: the merged report does not cover every repository of the list", strings.Join(missing, ", ")))
		}
	}
	if len(out.Repos) == 1 {
		out.Scan.Target = out.Repos[0].Repo
	} else {
		out.Scan.Target = fmt.Sprintf("%d repositories", len(out.Repos))
	}
	for _, f := range scanner.MergeFindings(findings) {
		jf := extra[f.Fingerprint]
		jf.Severity, jf.Weaknesses, jf.Exposure = f.Severity, f.Weaknesses, f.Exposure
		jf.Locations = jsonLocations(f.Locations)
		out.Findings = append(out.Findings, jf)
	}
	return out, warnings, nil
}

// finding converts a JSON finding back to a scanner finding; Secret is what the report held.
func (f JSONFinding) finding() scanner.Finding {
	sf := scanner.Finding{
		RuleID: f.RuleID, Description: f.Description, Severity: f.Severity, Kind: f.Kind,
		Secret: f.Secret, Fingerprint: f.Fingerprint, Entropy: f.Entropy, Tags: slices.Clone(f.Tags),
		Key: f.Key, Weaknesses: slices.Clone(f.Weaknesses), Strength: f.Strength, Exposure: f.Exposure,
	}
	for _, l := range f.Locations {
		sf.Locations = append(sf.Locations, scanner.Location{
			Source: l.Source, Repo: l.Repo, Path: l.Path, Line: l.Line, Column: l.Column,
			EndLine: l.EndLine, EndColumn: l.EndColumn, Commit: l.Commit, Author: l.Author,
			Email: l.Email, Date: l.Date, Message: l.Message, Image: l.Image,
			ImageDigest: l.ImageDigest, Layer: l.Layer, LayerDigest: l.LayerDigest,
			RemovedInLayer: l.RemovedInLayer, Note: l.Note,
			Offset: cloneOffset(l.Offset), Length: l.Length, Address: l.Address,
			Detector: l.Detector, Confirmed: l.Confirmed,
		})
	}
	return sf
}

// jsonLocations converts scanner locations to a JSON report's.
func jsonLocations(ls []scanner.Location) []JSONLocation {
	out := make([]JSONLocation, 0, len(ls))
	for _, l := range ls {
		out = append(out, JSONLocation{
			Source: l.Source, Repo: l.Repo, Path: l.Path, Line: l.Line, Column: l.Column,
			EndLine: l.EndLine, EndColumn: l.EndColumn, Commit: l.Commit, Author: l.Author,
			Email: l.Email, Date: l.Date, Message: l.Message, Image: l.Image,
			ImageDigest: l.ImageDigest, Layer: l.Layer, LayerDigest: l.LayerDigest,
			RemovedInLayer: l.RemovedInLayer, Note: l.Note,
			Offset: cloneOffset(l.Offset), Length: l.Length, Address: l.Address,
			Detector: l.Detector, Confirmed: l.Confirmed,
		})
	}
	return out
}

// cloneOffset copies a binary location's offset, so that a report and the result it came
// from share no pointer.
func cloneOffset(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Result turns a JSON report back into a Result that every Writer renders. Secrets stay as the
// report wrote them, except that a raw value (a report written with --show-secrets) is redacted
// unless showSecrets.
func (rep *JSONReport) Result(showSecrets bool) *Result {
	res := &Result{
		Tool:        Tool{Name: rep.Tool.Name, Version: rep.Tool.Version, InformationURI: rep.Tool.InformationURI},
		Source:      rep.Scan.Source,
		Target:      rep.Scan.Target,
		Started:     rep.Scan.Started,
		Inventories: rep.Inventories,
		Repos:       rep.Repos,
		Shard:       rep.Shard,
		Incomplete:  rep.Incomplete,
		Redacted:    true,
		ShowSecrets: showSecrets,
		Stats: scanner.Stats{
			Blobs: rep.Stats.Blobs, Bytes: rep.Stats.Bytes, ScannedBytes: rep.Stats.ScannedBytes,
			Skipped: rep.Stats.Skipped, Commits: rep.Stats.Commits,
			Duration: time.Duration(rep.Stats.DurationMS) * time.Millisecond,
		},
	}
	for _, f := range rep.Findings {
		sf := f.finding()
		if !showSecrets && !strings.HasSuffix(sf.Secret, "…") {
			sf.Secret = scanner.Redact(sf.Secret)
		}
		res.Findings = append(res.Findings, sf)
	}
	for _, s := range rep.Skipped {
		res.Skipped = append(res.Skipped, scanner.SkippedBlob{Path: s.Path, Reason: s.Reason, Size: s.Size})
	}
	res.Tool.Name = cmp.Or(res.Tool.Name, "keywarden")
	return res
}
