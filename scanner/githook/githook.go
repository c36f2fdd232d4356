// Package githook installs and removes keywarden's native git hooks (pre-commit, pre-push),
// keeping any hook it replaces as a backup that it chains to and restores.
package githook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Hook names keywarden installs.
const (
	PreCommit = "pre-commit"
	PrePush   = "pre-push"
)

// marker identifies a hook file keywarden wrote, so that it is updated or removed freely and a
// foreign one is never touched without --force.
const marker = "# keywarden-hook v1"

// backupSuffix names the foreign hook kept beside keywarden's, which keywarden's runs first.
const backupSuffix = ".keywarden-backup"

// ErrForeign means a hook keywarden did not write is in the way.
var ErrForeign = errors.New("a hook keywarden did not write is installed")

// Dir returns the directory git runs hooks from for the repository around dir, honouring
// core.hooksPath and linked work trees.
func Dir(ctx context.Context, dir string) (string, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return "", fmt.Errorf("finding the hooks directory: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "-C", dir, "rev-parse", "--git-path", "hooks")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimPrefix(strings.TrimSpace(strings.SplitN(stderr.String(), "\n", 2)[0]), "fatal: ")
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("finding the hooks directory of %q: %s", dir, msg)
	}
	p := strings.TrimSpace(string(out))
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Abs(p)
}

// Script returns the hook script for name, running keywarden at exe (falling back to
// keywarden on PATH if exe is gone, after an upgrade to another place, say).
func Script(name, exe string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString(marker + " (" + name + ")\n")
	b.WriteString("# Installed by `keywarden hook install`; `keywarden hook uninstall` removes it and restores\n")
	b.WriteString("# the hook it replaced, which runs first meanwhile (" + name + backupSuffix + ").\n")
	b.WriteString("# Skip once with --no-verify.\n")
	fmt.Fprintf(&b, "kw=%s\n", shellQuote(exe))
	b.WriteString("[ -x \"$kw\" ] || kw=keywarden\n")
	b.WriteString("backup=\"$0" + backupSuffix + "\"\n")
	switch name {
	case PrePush:
		// Both hooks read the refs being pushed from stdin, so it is read once and replayed.
		b.WriteString("input=$(cat)\n")
		b.WriteString("if [ -x \"$backup\" ]; then\n")
		b.WriteString("\tprintf '%s\\n' \"$input\" | \"$backup\" \"$@\" || exit $?\n")
		b.WriteString("fi\n")
		b.WriteString("printf '%s\\n' \"$input\" | \"$kw\" scan git --pre-push .\n")
	default:
		b.WriteString("if [ -x \"$backup\" ]; then\n")
		b.WriteString("\t\"$backup\" \"$@\" || exit $?\n")
		b.WriteString("fi\n")
		b.WriteString("exec \"$kw\" scan staged .\n")
	}
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Installed reports whether the hook file at path is one keywarden wrote.
func Installed(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading hook %q: %w", path, err)
	}
	return bytes.Contains(data, []byte(marker)), nil
}

// Result says what Install or Uninstall did, for the user.
type Result struct {
	Path   string // the hook file
	Backup string // the foreign hook kept (Install) or restored (Uninstall), if any
}

// Install writes hook name into hooksDir. A hook keywarden wrote is replaced; a foreign one is
// kept as a backup that the new hook runs first, only when force is set.
func Install(hooksDir, name, exe string, force bool) (Result, error) {
	path := filepath.Join(hooksDir, name)
	res := Result{Path: path}
	ours, err := Installed(path)
	if err != nil {
		return res, err
	}
	if _, err := os.Lstat(path); err == nil && !ours {
		if !force {
			return res, fmt.Errorf("%s: %w (run with --force to keep it as %s and chain to it)", path, ErrForeign, name+backupSuffix)
		}
		backup := path + backupSuffix
		if _, err := os.Lstat(backup); err == nil {
			return res, fmt.Errorf("%s: %w, and %s already exists: move one of them away first", path, ErrForeign, backup)
		}
		if err := os.Rename(path, backup); err != nil {
			return res, fmt.Errorf("keeping the existing hook: %w", err)
		}
		res.Backup = backup
	}
	if err := os.MkdirAll(hooksDir, 0o755); err != nil {
		return res, fmt.Errorf("creating hooks directory: %w", err)
	}
	// Written beside and renamed, so that a commit running meanwhile sees the old or the new
	// hook, never half of one.
	tmp, err := os.CreateTemp(hooksDir, "."+name+".keywarden-*")
	if err != nil {
		return res, fmt.Errorf("writing hook: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(Script(name, exe)); err != nil {
		tmp.Close()
		return res, fmt.Errorf("writing hook %q: %w", path, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return res, fmt.Errorf("writing hook %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("writing hook %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return res, fmt.Errorf("writing hook %q: %w", path, err)
	}
	return res, nil
}

// ErrNotInstalled means there is no keywarden hook to remove.
var ErrNotInstalled = errors.New("no keywarden hook installed")

// Uninstall removes keywarden's hook name from hooksDir and puts back the hook it replaced. A
// foreign hook is left alone.
func Uninstall(hooksDir, name string) (Result, error) {
	path := filepath.Join(hooksDir, name)
	res := Result{Path: path}
	ours, err := Installed(path)
	if err != nil {
		return res, err
	}
	if !ours {
		if _, err := os.Lstat(path); err == nil {
			return res, fmt.Errorf("%s: %w; leaving it alone", path, ErrForeign)
		}
		return res, fmt.Errorf("%s: %w", path, ErrNotInstalled)
	}
	if err := os.Remove(path); err != nil {
		return res, fmt.Errorf("removing hook: %w", err)
	}
	backup := path + backupSuffix
	if _, err := os.Lstat(backup); err == nil {
		if err := os.Rename(backup, path); err != nil {
			return res, fmt.Errorf("restoring %s: %w", backup, err)
		}
		res.Backup = path
	}
	return res, nil
}
