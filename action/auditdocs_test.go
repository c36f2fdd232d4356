package action

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The sharded-audit examples in docs/ are meant to be copied as they are: the workflow passes
// actionlint, the Job's shard arithmetic is right, and docs/audits.md shows both unchanged.
func TestAuditExamples(t *testing.T) {
	doc := readFile(t, filepath.Join("..", "docs", "audits.md"))
	wfPath := filepath.Join("..", "docs", "examples", "audit-shards.yml")
	jobPath := filepath.Join("..", "docs", "examples", "audit-indexed-job.yaml")
	for _, p := range []string{wfPath, jobPath} {
		if !strings.Contains(doc, "```yaml\n"+readFile(t, p)+"```") {
			t.Errorf("docs/audits.md does not show %s unchanged", filepath.Base(p))
		}
	}

	t.Run("workflow", func(t *testing.T) {
		var wf struct {
			Jobs map[string]struct {
				Strategy struct {
					Matrix struct {
						Shard []int `yaml:"shard"`
					} `yaml:"matrix"`
				} `yaml:"strategy"`
				Steps []struct {
					Run string `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(readFile(t, wfPath)), &wf); err != nil {
			t.Fatal(err)
		}
		shards := wf.Jobs["shard"].Strategy.Matrix.Shard
		var runs string
		for _, s := range wf.Jobs["shard"].Steps {
			runs += s.Run
		}
		n := len(shards)
		if n == 0 || !strings.Contains(runs, "--shard ${{ matrix.shard }}/"+itoa(n)) {
			t.Errorf("the matrix has %d shards but the audit step says %q", n, runs)
		}
		for i, s := range shards {
			if s != i+1 {
				t.Errorf("matrix shards %v, want 1..%d", shards, n)
			}
		}
		bin := actionlintPath(t)
		cmd := exec.Command(bin, "-no-color", wfPath)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("actionlint %s: %v\n%s", wfPath, err, out.String())
		}
	})

	t.Run("indexed job", func(t *testing.T) {
		dec := yaml.NewDecoder(strings.NewReader(readFile(t, jobPath)))
		type container struct {
			Command []string `yaml:"command"`
			Args    []string `yaml:"args"`
		}
		var job struct {
			Kind string `yaml:"kind"`
			Spec struct {
				CompletionMode string `yaml:"completionMode"`
				Completions    int    `yaml:"completions"`
				Template       struct {
					Spec struct {
						Containers []container `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		for {
			var doc struct {
				Kind string `yaml:"kind"`
			}
			var node yaml.Node
			if err := dec.Decode(&node); err != nil {
				break
			}
			if err := node.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if doc.Kind == "Job" {
				if err := node.Decode(&job); err != nil {
					t.Fatal(err)
				}
			}
		}
		if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || job.Spec.Completions < 2 || len(job.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("want one Indexed Job with a container and 2+ completions, have %+v", job)
		}
		c := job.Spec.Template.Spec.Containers[0]
		if len(c.Command) != 2 || c.Command[0] != "/bin/sh" || len(c.Args) != 1 {
			t.Fatalf("want sh -c SCRIPT, have %v %v", c.Command, c.Args)
		}
		// Run the pod's script under the real sh with a keywarden that prints its arguments:
		// index i of N must scan shard i+1 of N, every shard once.
		stub := t.TempDir()
		if err := os.WriteFile(filepath.Join(stub, "keywarden"), []byte("#!/bin/sh\necho \"$@\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		n := job.Spec.Completions
		for i := range n {
			cmd := exec.Command(c.Command[0], c.Command[1], c.Args[0])
			cmd.Env = append(os.Environ(), "PATH="+stub+":/usr/bin:/bin", "JOB_COMPLETION_INDEX="+itoa(i))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("index %d: %v\n%s", i, err, out)
			}
			want := "--shard " + itoa(i+1) + "/" + itoa(n) + " "
			if !strings.Contains(string(out), want) || !strings.Contains(string(out), "shard-"+itoa(i+1)+".json") {
				t.Errorf("index %d runs %q, want %q and its own report file", i, out, want)
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
