package scanner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// mirrorRefSpec is what `git clone --mirror` fetches: every ref, to the same name, forced.
const mirrorRefSpec = config.RefSpec("+refs/*:refs/*")

// MirrorOptions tunes MirrorWithOptions; the zero value is what Mirror uses.
type MirrorOptions struct {
	// CABundle holds PEM certificates trusted for https in addition to the system's, for a
	// server behind a private CA.
	CABundle []byte
}

// Mirror makes dir a bare mirror of the repository at url, with every ref: cloned when dir does
// not exist, else updated by a fetch that prunes deleted refs. fetched reports the second case.
// A failed clone leaves no dir behind; a failed fetch leaves the last good mirror.
//
// Credentials come from the usual places (see docs/remote-auth.md): an http(s) remote is tried
// anonymously, then once with the URL's credentials, the git credential helper, or
// GITHUB_TOKEN/GH_TOKEN for GitHub hosts; an ssh remote uses the SSH agent and known_hosts.
// An error caused by missing or refused credentials matches ErrRemoteAuth.
func Mirror(ctx context.Context, url, dir string) (fetched bool, err error) {
	return MirrorWithOptions(ctx, url, dir, MirrorOptions{})
}

// MirrorWithOptions is Mirror with options.
func MirrorWithOptions(ctx context.Context, url, dir string, opts MirrorOptions) (fetched bool, err error) {
	t := parseRemote(url)
	_, err = os.Stat(dir)
	switch {
	case err == nil:
		if err := fetchMirror(ctx, t, dir, opts); err != nil {
			return true, fmt.Errorf("fetching %q: %w", t.display, err)
		}
		return true, nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("opening cached mirror of %q: %w", t.display, err)
	}

	// Clone next to dir and rename into place, so that an interrupted clone never leaves a
	// dir that a later run would take for a mirror.
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return false, fmt.Errorf("cloning %q: %w", t.display, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".clone-")
	if err != nil {
		return false, fmt.Errorf("cloning %q: %w", t.display, err)
	}
	if err := cloneInto(ctx, t, tmp, opts); err != nil {
		os.RemoveAll(tmp)
		return false, fmt.Errorf("cloning %q: %w", t.display, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return false, fmt.Errorf("cloning %q: %w", t.display, err)
	}
	return false, nil
}

// cloneInto clones t bare with every ref into dir, an existing empty directory, which it
// leaves empty again on failure. An empty remote gives an empty mirror, as git clone does.
func cloneInto(ctx context.Context, t *remoteTarget, dir string, opts MirrorOptions) error {
	return t.withAuth(ctx, func(auth transport.AuthMethod) error {
		if err := emptyDir(dir); err != nil {
			return err
		}
		_, err := git.PlainCloneContext(ctx, dir, true, &git.CloneOptions{
			URL:      t.url,
			Auth:     auth,
			Mirror:   true,
			Tags:     git.AllTags,
			CABundle: opts.CABundle,
		})
		if errors.Is(err, transport.ErrEmptyRemoteRepository) {
			return initEmptyMirror(dir, t.url)
		}
		if err != nil {
			emptyDir(dir)
		}
		return err
	})
}

// initEmptyMirror makes dir a bare repository whose origin a later fetch mirrors.
func initEmptyMirror(dir, url string) error {
	if err := emptyDir(dir); err != nil {
		return err
	}
	repo, err := git.PlainInit(dir, true)
	if err != nil {
		return err
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{
		Name:   git.DefaultRemoteName,
		URLs:   []string{url},
		Mirror: true,
		Fetch:  []config.RefSpec{mirrorRefSpec},
	})
	return err
}

// fetchMirror updates the mirror in dir from t: new and force-pushed refs are taken as the
// remote has them and refs the remote deleted are removed. Objects arrive before any ref
// moves, so a failed fetch leaves the refs where they were.
func fetchMirror(ctx context.Context, t *remoteTarget, dir string, opts MirrorOptions) error {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("opening cached mirror %q: %w (remove it to clone afresh)", dir, err)
	}
	if _, err := repo.Remote(git.DefaultRemoteName); err != nil {
		return fmt.Errorf("opening cached mirror %q: %w (remove it to clone afresh)", dir, err)
	}
	return t.withAuth(ctx, func(auth transport.AuthMethod) error {
		err := repo.FetchContext(ctx, &git.FetchOptions{
			RemoteName: git.DefaultRemoteName,
			// The URL given now, not the one stored at clone time: a list may move a repository.
			RemoteURL: t.url,
			RefSpecs:  []config.RefSpec{mirrorRefSpec},
			Auth:      auth,
			Force:     true,
			Prune:     true,
			Tags:      git.AllTags,
			CABundle:  opts.CABundle,
		})
		switch {
		case errors.Is(err, git.NoErrAlreadyUpToDate):
			return nil
		case errors.Is(err, transport.ErrEmptyRemoteRepository):
			// Every ref was deleted upstream: prune them all, as git fetch --prune would.
			return removeRefs(repo)
		}
		return err
	})
}

// removeRefs deletes every ref under refs/, leaving HEAD.
func removeRefs(repo *git.Repository) error {
	refs, err := repo.Storer.IterReferences()
	if err != nil {
		return err
	}
	var names []plumbing.ReferenceName
	err = refs.ForEach(func(r *plumbing.Reference) error {
		if r.Name() != plumbing.HEAD {
			names = append(names, r.Name())
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := repo.Storer.RemoveReference(n); err != nil {
			return err
		}
	}
	return nil
}

// emptyDir removes everything inside dir, keeping dir.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
