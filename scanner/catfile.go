package scanner

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
)

// Object readers a GitSource can inflate blobs with.
const (
	ReaderAuto  = ""       // the git binary when it is on PATH, else go-git
	ReaderGoGit = "go-git" // go-git only
	ReaderGit   = "git"    // `git cat-file --batch`; an error if git is not on PATH
)

// catFile streams blob contents from `git cat-file --batch`. git resolves delta chains with its
// own base cache and runs in a process of its own, so inflation gets a core to itself; on the
// benchmark repository it reads every blob in a third of the time go-git takes. Requests are
// answered in order, which is the order the source yields in.
type catFile struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	w   *bufio.Writer
	out *bufio.Reader
	// keepBinary reads binary blobs whole instead of skipping them (scans with --binary).
	keepBinary bool
}

// startCatFile starts `git <repoArgs> cat-file --batch`, repoArgs naming the repository
// ("--git-dir", dir or "-C", dir), or returns nil when git is not available and mode allows
// falling back to go-git.
func startCatFile(ctx context.Context, repoArgs []string, mode string) (*catFile, error) {
	if mode == ReaderGoGit {
		return nil, nil
	}
	bin, err := exec.LookPath("git")
	if err != nil {
		if mode == ReaderGit {
			return nil, fmt.Errorf("starting git cat-file: %w", err)
		}
		return nil, nil
	}
	cmd := exec.CommandContext(ctx, bin, append(slices.Clone(repoArgs), "cat-file", "--batch")...)
	// Replace-objects would make git answer with other content than go-git reads for the id,
	// and a partial clone would fetch every missing blob from its remote, one by one.
	cmd.Env = append(cmd.Environ(), "GIT_NO_REPLACE_OBJECTS=1", "GIT_NO_LAZY_FETCH=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("starting git cat-file: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting git cat-file: %w", err)
	}
	if err := cmd.Start(); err != nil {
		if mode == ReaderGit {
			return nil, fmt.Errorf("starting git cat-file: %w", err)
		}
		return nil, nil
	}
	growPipe(out)
	return &catFile{cmd: cmd, in: in, w: bufio.NewWriter(in), out: bufio.NewReaderSize(out, 1<<16)}, nil
}

// request asks for one object; the answer is read by read, in request order.
func (c *catFile) request(id plumbing.Hash) error {
	c.w.WriteString(id.String())
	c.w.WriteByte('\n')
	return c.w.Flush()
}

// finish closes git's input so that it exits after its last answer.
func (c *catFile) finish() { c.in.Close() }

// wait reaps the process.
func (c *catFile) wait() { _ = c.cmd.Wait() }

// read reads the answer for id: its content, or why there is none (SkipMissing, SkipTooLarge,
// SkipBinary). ok is false when git could not answer (it exited, say on a corrupt object), and
// the caller reads this object and the rest with go-git instead, which reports such objects
// precisely.
func (c *catFile) read(id plumbing.Hash, limit int64) (content []byte, size int64, skip string, ok bool) {
	header, err := c.out.ReadString('\n')
	if err != nil {
		return nil, 0, "", false
	}
	fields := strings.Fields(header)
	if len(fields) == 2 && fields[1] == "missing" && fields[0] == id.String() {
		return nil, 0, SkipMissing, true
	}
	if len(fields) != 3 || fields[0] != id.String() || fields[1] != "blob" {
		return nil, 0, "", false
	}
	size, err = strconv.ParseInt(fields[2], 10, 64)
	if err != nil || size < 0 {
		return nil, 0, "", false
	}
	if limit > 0 && size > limit {
		if _, err := c.out.Discard(int(size) + 1); err != nil {
			return nil, 0, "", false
		}
		return nil, size, SkipTooLarge, true
	}
	// A large binary (an image, a wasm module) need not be copied out of the pipe to be
	// skipped: its first bytes say so, as they do for the engine.
	if size > 1<<16 && !c.keepBinary {
		if head, err := c.out.Peek(sniffLen); err == nil && binaryHead(head) {
			if _, err := c.out.Discard(int(size) + 1); err != nil {
				return nil, 0, "", false
			}
			return nil, size, SkipBinary, true
		}
	}
	content = make([]byte, size+1)
	if _, err := io.ReadFull(c.out, content); err != nil || content[size] != '\n' {
		return nil, 0, "", false
	}
	return content[:size:size], size, "", true
}

// growPipe asks for a 1 MiB pipe from git (Linux; elsewhere a no-op), so that git and the
// reader wake each other 16 times less often than with the default 64 KiB.
func growPipe(r io.Reader) {
	if f, ok := r.(interface{ Fd() uintptr }); ok {
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), 1031 /* F_SETPIPE_SZ */, 1<<20)
	}
}
