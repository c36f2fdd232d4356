// Package sourcetest checks that a scanner.Source keeps the contract the engine relies on.
package sourcetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/scanner"
)

// Run checks the Source contract. newSource must return a fresh source yielding at least two
// blobs with content, the same ones on every call.
func Run(t *testing.T, newSource func(t *testing.T) scanner.Source) {
	t.Run("YieldErrorStops", func(t *testing.T) {
		stop := errors.New("stop here")
		calls := 0
		err := newSource(t).Blobs(context.Background(), func(scanner.Blob) error {
			calls++
			return stop
		})
		if err != stop {
			t.Errorf("Blobs returned %v, want the yield error unchanged", err)
		}
		if calls != 1 {
			t.Errorf("yield called %d times after returning an error, want 1", calls)
		}
	})

	t.Run("CancelledBeforeStart", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		calls := 0
		err := newSource(t).Blobs(ctx, func(scanner.Blob) error {
			calls++
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Blobs returned %v, want %v", err, context.Canceled)
		}
		if calls != 0 {
			t.Errorf("yield called %d times on a cancelled context, want 0", calls)
		}
	})

	t.Run("CancelledDuring", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		err := newSource(t).Blobs(ctx, func(scanner.Blob) error {
			calls++
			cancel()
			return nil
		})
		if err != context.Canceled {
			t.Errorf("Blobs returned %v, want ctx.Err() = %v", err, context.Canceled)
		}
		if calls != 1 {
			t.Errorf("yield called %d times, want no call after the context was cancelled", calls)
		}
	})

	t.Run("NoConcurrentYield", func(t *testing.T) {
		var inside, overlaps atomic.Int32
		err := newSource(t).Blobs(context.Background(), func(scanner.Blob) error {
			if inside.Add(1) > 1 {
				overlaps.Add(1)
			}
			time.Sleep(time.Millisecond) // widen the window a concurrent call would hit
			inside.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatalf("Blobs: %v", err)
		}
		if n := overlaps.Load(); n > 0 {
			t.Errorf("yield was called concurrently %d times", n)
		}
	})

	t.Run("FirstYieldHasContentOrSkip", func(t *testing.T) {
		seen := map[scanner.BlobID]bool{}
		withContent := 0
		err := newSource(t).Blobs(context.Background(), func(b scanner.Blob) error {
			if b.Origin == nil {
				t.Errorf("blob %s has no origin", b.ID)
			}
			if seen[b.ID] {
				if b.Content != nil {
					t.Errorf("%s: blob %s yielded with content again", b.Origin, b.ID)
				}
				return nil
			}
			seen[b.ID] = true
			switch {
			case b.Content == nil && b.Skip == "":
				t.Errorf("%s: first yield of blob %s has neither content nor a skip reason", b.Origin, b.ID)
			case b.Content != nil && b.Skip != "":
				t.Errorf("%s: blob %s has content and skip reason %q", b.Origin, b.ID, b.Skip)
			case b.Content != nil:
				withContent++
				if id := scanner.HashBlob(b.Content); id != b.ID {
					t.Errorf("%s: blob ID %s, but its content hashes to %s", b.Origin, b.ID, id)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Blobs: %v", err)
		}
		if withContent < 2 {
			t.Errorf("source yielded %d blobs with content; the suite needs at least 2", withContent)
		}
	})

	t.Run("Deterministic", func(t *testing.T) {
		list := func() []string {
			var got []string
			err := newSource(t).Blobs(context.Background(), func(b scanner.Blob) error {
				got = append(got, b.ID.String()+" "+b.Origin.String())
				return nil
			})
			if err != nil {
				t.Fatalf("Blobs: %v", err)
			}
			return got
		}
		if diff := cmp.Diff(list(), list()); diff != "" {
			t.Errorf("two runs yielded different sequences (-first +second):\n%s", diff)
		}
	})
}
