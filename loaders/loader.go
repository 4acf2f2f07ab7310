package loaders

import (
	"context"
	"errors"
	"sync"

	"github.com/vikstrous/dataloadgen"
)

// Loader is one of an operation's dataloaders: a dataloadgen loader (per-operation
// dedupe, priming, batching of misses) answering from the shared cache first.
//
// A key the operation has not met yet whose answer is fresh in the shared cache is
// answered at once, in the caller's goroutine: it joins no batching window (Wait) and
// starts no goroutine, so a warm query costs no waiting at all. The answer is then
// primed into the dataloader, so that the rest of the operation sees that same answer
// for that key, as if it had been loaded (a key loaded twice in an operation is still
// one answer and at most one fetch). Only keys missing from the shared cache, or
// expired there, wait to be batched and go through cache.Fetch as before.
//
// It has the methods of dataloadgen.Loader the resolvers use, so they call
// loaders.For(ctx).X.Load(ctx, key) as before.
type Loader[K comparable, V any] struct {
	dl *dataloadgen.Loader[K, V]
	// fresh is the shared cache's fresh answer for a key (nil: reuse is off).
	fresh func(ctx context.Context, key K) (V, bool)
	// after runs on each answer taken from the shared cache here, as it does on those
	// loaded through dl (e.g. a list priming the by-id loaders).
	after func(V)
	// primed, when set, finds a key in what the operation already read (lists whose
	// rows it holds), before the shared cache: priming done when a key is asked for
	// rather than for every row of every list.
	primed func(K) (V, bool)

	mu sync.Mutex
	// met holds every key handed to dl (loaded or primed) since it was last cleared:
	// those are answered by dl, whatever the shared cache holds now.
	met map[K]struct{}
}

func newLoader[K comparable, V any](dl *dataloadgen.Loader[K, V], fresh func(context.Context, K) (V, bool), after func(V)) *Loader[K, V] {
	return &Loader[K, V]{dl: dl, fresh: fresh, after: after}
}

// Load returns key's value: the operation's earlier answer, the shared cache's fresh
// one, or one fetched in the next batch.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	if v, ok := l.warm(ctx, key); ok {
		return v, nil
	}
	return l.dl.Load(ctx, key)
}

// LoadAll returns the values of keys, answering warm keys at once and batching the
// others together. On failure the error is a dataloadgen.ErrorSlice aligned with keys.
func (l *Loader[K, V]) LoadAll(ctx context.Context, keys []K) ([]V, error) {
	values := make([]V, len(keys))
	var missing []int
	for i, k := range keys {
		if v, ok := l.warm(ctx, k); ok {
			values[i] = v
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return values, nil
	}
	missKeys := make([]K, len(missing))
	for j, i := range missing {
		missKeys[j] = keys[i]
	}
	got, err := l.dl.LoadAll(ctx, missKeys)
	for j, i := range missing {
		if j < len(got) {
			values[i] = got[j]
		}
	}
	if err == nil {
		return values, nil
	}
	var partial dataloadgen.ErrorSlice
	if !errors.As(err, &partial) || len(partial) != len(missing) {
		return values, err
	}
	errs := make(dataloadgen.ErrorSlice, len(keys))
	for j, i := range missing {
		errs[i] = partial[j]
	}
	return values, errs
}

// Prime makes value the operation's answer for key unless it already has one, and
// reports whether it did.
func (l *Loader[K, V]) Prime(key K, value V) bool {
	l.meet(key)
	return l.dl.Prime(key, value)
}

// Clear forgets the operation's answer for key.
func (l *Loader[K, V]) Clear(key K) {
	l.mu.Lock()
	delete(l.met, key)
	l.mu.Unlock()
	l.dl.Clear(key)
}

// ClearAll forgets every answer of the operation.
func (l *Loader[K, V]) ClearAll() {
	l.mu.Lock()
	l.met = nil
	l.mu.Unlock()
	l.dl.ClearAll()
}

// warm answers key from the shared cache when the operation has not met it yet and the
// cache holds it fresh; otherwise it marks key as met, for dl to answer. The lookup and
// the priming happen under l.mu, so a concurrent caller of the same key waits for them
// and then gets the primed answer from dl instead of starting a fetch.
func (l *Loader[K, V]) warm(ctx context.Context, key K) (V, bool) {
	var zero V
	l.mu.Lock()
	if _, met := l.met[key]; met {
		l.mu.Unlock()
		return zero, false
	}
	if l.met == nil {
		l.met = make(map[K]struct{})
	}
	l.met[key] = struct{}{}
	if l.primed != nil {
		if v, ok := l.primed(key); ok && l.dl.Prime(key, v) {
			l.mu.Unlock()
			return v, true
		}
	}
	if l.fresh == nil {
		l.mu.Unlock()
		return zero, false
	}
	v, ok := l.fresh(ctx, key)
	ok = ok && l.dl.Prime(key, v) // missing or expired: dl fetches it
	l.mu.Unlock()
	if !ok {
		return zero, false
	}
	if l.after != nil {
		l.after(v)
	}
	return v, true
}

// meet records that key is handed to dl and reports whether it was new.
func (l *Loader[K, V]) meet(key K) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.met[key]; ok {
		return false
	}
	if l.met == nil {
		l.met = make(map[K]struct{})
	}
	l.met[key] = struct{}{}
	return true
}
