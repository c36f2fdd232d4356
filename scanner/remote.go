package scanner

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/go-git/go-git/v5"
)

// Mirror makes dir a bare mirror of the repository at url, with every ref: cloned when dir does
// not exist, else updated by a fetch that prunes deleted refs. fetched reports the second case.
// A failed clone leaves no dir behind; a failed fetch leaves the last good mirror.
func Mirror(ctx context.Context, url, dir string) (fetched bool, err error) {
	if _, err := os.Stat(dir); err == nil {
		repo, err := git.PlainOpen(dir)
		if err != nil {
			return true, fmt.Errorf("opening cached mirror of %q: %w", RedactURL(url), err)
		}
		err = repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Force: true, Prune: true, Tags: git.AllTags})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return true, fmt.Errorf("fetching %q: %w", RedactURL(url), scrubURL(err, url))
		}
		return true, nil
	}
	_, err = git.PlainCloneContext(ctx, dir, true, &git.CloneOptions{URL: url, Mirror: true, Tags: git.AllTags})
	if err != nil {
		os.RemoveAll(dir)
		return false, fmt.Errorf("cloning %q: %w", RedactURL(url), scrubURL(err, url))
	}
	return false, nil
}
