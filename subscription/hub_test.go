package subscription

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.uber.org/goleak"
)

// A fake schema whose subscription `ticks(topic)` yields what the test publishes on the
// topic; it counts executions, so tests see how many the hub runs.

type ctxKey string

type source struct {
	executions atomic.Int32 // started
	active     atomic.Int32 // not yet cancelled

	mu   sync.Mutex
	subs map[string][]chan string // topic -> one channel per execution
}

func (s *source) publish(topic, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.subs[topic] {
		ch <- value
	}
}

// end closes every execution of topic (their streams complete).
func (s *source) end(topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.subs[topic] {
		close(ch)
	}
	delete(s.subs, topic)
}

func newExecutor(t testing.TB, src *source) *executor.Executor {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { x: String }
		type Subscription { ticks(topic: String!, n: Int): String! }
	`})
	es := &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 1, true
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			op := graphql.GetOperationContext(ctx)
			if op.Operation.Operation != ast.Subscription {
				return graphql.OneShot(graphql.ErrorResponse(ctx, "only subscriptions"))
			}
			topic, _ := op.Variables["topic"].(string)
			if topic == "fails" {
				graphql.AddError(ctx, errors.New("the resolver refused"))
				return graphql.OneShot(&graphql.Response{})
			}
			ch := make(chan string, 16)
			src.mu.Lock()
			if src.subs == nil {
				src.subs = map[string][]chan string{}
			}
			src.subs[topic] = append(src.subs[topic], ch)
			src.mu.Unlock()
			src.executions.Add(1)
			src.active.Add(1)
			context.AfterFunc(ctx, func() { src.active.Add(-1) })
			return func(ctx context.Context) *graphql.Response {
				select {
				case v, ok := <-ch:
					if !ok {
						return nil
					}
					scope, _ := ctx.Value(ctxKey("scope")).(string)
					return &graphql.Response{Data: []byte(fmt.Sprintf(`{"ticks":%q}`, v+"@"+scope))}
				case <-ctx.Done():
					return nil
				}
			}
		},
	}
	exec := executor.New(es)
	exec.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		e := graphql.DefaultErrorPresenter(ctx, err)
		if e.Extensions == nil {
			e.Extensions = map[string]any{"code": "TEST_CODE"}
		}
		return e
	})
	return exec
}

// testHub reads the scope and role from context values, and copies them onto the
// group's context.
func testHub(t testing.TB, buffer int, gauge prometheus.Gauge) *Hub {
	h := New(Options{
		Scope: func(ctx context.Context) (context.Context, string, error) {
			s, _ := ctx.Value(ctxKey("scope")).(string)
			if s == "" {
				return ctx, "", errors.New("no workspace")
			}
			return ctx, s, nil
		},
		Role: func(ctx context.Context) string { r, _ := ctx.Value(ctxKey("role")).(string); return r },
		Detach: func(base, ctx context.Context) context.Context {
			return context.WithValue(base, ctxKey("scope"), ctx.Value(ctxKey("scope")))
		},
		Buffer: buffer,
		Active: gauge,
	})
	t.Cleanup(h.Close)
	return h
}

// sub is one test subscriber.
type sub struct {
	m     *Member
	ready chan struct{}
}

func join(t testing.TB, h *Hub, exec graphql.GraphExecutor, scope, role, query string, vars map[string]any) *sub {
	t.Helper()
	ctx := context.WithValue(context.WithValue(context.Background(), ctxKey("scope"), scope), ctxKey("role"), role)
	ctx = graphql.StartOperationTrace(ctx)
	params := &graphql.RawParams{Query: query, Variables: vars}
	op, errs := exec.CreateOperationContext(ctx, params)
	require.Empty(t, errs)
	s := &sub{ready: make(chan struct{}, 1)}
	s.m = h.Join(ctx, exec, params, op, func() {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	})
	return s
}

// next waits for the next queued event (or the end).
func (s *sub) next(t testing.TB) (payload string, ended bool, end End) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		events, ended, end := s.m.Take(nil)
		if len(events) > 0 {
			require.Len(t, events, 1, "one event at a time")
			return string(events[0]), ended, end
		}
		if ended {
			return "", true, end
		}
		select {
		case <-s.ready:
		case <-deadline:
			t.Fatal("no event within 5s")
		}
	}
}

const ticks = `subscription($topic: String!, $n: Int) { ticks(topic: $topic, n: $n) }`

func gaugeOf(t testing.TB, g prometheus.Gauge) float64 {
	var m dto.Metric
	require.NoError(t, g.Write(&m))
	return m.GetGauge().GetValue()
}

// noLeaks checks, after the test's other cleanups (the hub's Close), that every
// goroutine the test started has ended.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, time.Millisecond, what)
}

func TestOneExecutionPerGroup(t *testing.T) {
	noLeaks(t)
	src := &source{}
	exec := newExecutor(t, src)
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "active"})
	h := testHub(t, 0, gauge)

	same := []*sub{
		join(t, h, exec, "org:a", "", ticks, map[string]any{"topic": "t", "n": 1}),
		join(t, h, exec, "org:a", "", ticks, map[string]any{"topic": "t", "n": 1}),
		join(t, h, exec, "org:a", "", ticks, map[string]any{"n": 1, "topic": "t"}), // the same variables in another order
	}
	others := map[string]*sub{
		"other variables": join(t, h, exec, "org:a", "", ticks, map[string]any{"topic": "t", "n": 2}),
		"other workspace": join(t, h, exec, "org:b", "", ticks, map[string]any{"topic": "t", "n": 1}),
		"other role":      join(t, h, exec, "org:a", "viewer", ticks, map[string]any{"topic": "t", "n": 1}),
		"other document":  join(t, h, exec, "org:a", "", `subscription Named($topic: String!, $n: Int) { ticks(topic: $topic, n: $n) }`, map[string]any{"topic": "t", "n": 1}),
	}
	waitFor(t, "one execution per distinct group", func() bool { return src.executions.Load() == 5 })
	assert.Equal(t, Stats{Groups: 5, Members: 7}, h.Stats())
	assert.Equal(t, 7.0, gaugeOf(t, gauge))

	src.publish("t", "e1")
	var first string
	for i, s := range same {
		p, ended, _ := s.next(t)
		assert.False(t, ended)
		if i == 0 {
			first = p
		}
		assert.Equal(t, first, p, "the same bytes for every member")
	}
	assert.JSONEq(t, `{"data":{"ticks":"e1@org:a"}}`, first)
	for name, s := range others {
		p, _, _ := s.next(t)
		assert.Contains(t, p, "e1@", name)
	}
	assert.Equal(t, int32(5), src.executions.Load(), "events do not start executions")
}

func TestJoiningAnExistingGroup(t *testing.T) {
	noLeaks(t)
	src := &source{}
	exec := newExecutor(t, src)
	h := testHub(t, 0, nil)
	vars := map[string]any{"topic": "t"}
	early := join(t, h, exec, "org:a", "", ticks, vars)
	waitFor(t, "execution", func() bool { return src.executions.Load() == 1 })
	src.publish("t", "before")
	p, _, _ := early.next(t)
	assert.Contains(t, p, "before")

	late := join(t, h, exec, "org:a", "", ticks, vars)
	src.publish("t", "after")
	for _, s := range []*sub{early, late} {
		p, _, _ := s.next(t)
		assert.Contains(t, p, "after", "a member joining receives events from then on")
	}
	events, ended, _ := late.m.Take(nil)
	assert.Empty(t, events, "nothing from before it joined")
	assert.False(t, ended)
	early.m.Leave()
	late.m.Leave()
}

func TestLastMemberLeavingStopsTheExecution(t *testing.T) {
	noLeaks(t)
	src := &source{}
	exec := newExecutor(t, src)
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "active"})
	h := testHub(t, 0, gauge)
	vars := map[string]any{"topic": "t"}
	a := join(t, h, exec, "org:a", "", ticks, vars)
	b := join(t, h, exec, "org:a", "", ticks, vars)
	waitFor(t, "execution", func() bool { return src.active.Load() == 1 })

	a.m.Leave()
	a.m.Leave() // idempotent
	assert.Equal(t, 1.0, gaugeOf(t, gauge))
	src.publish("t", "still")
	p, _, _ := b.next(t)
	assert.Contains(t, p, "still", "the group runs while a member is left")
	assert.Equal(t, int32(1), src.active.Load())

	b.m.Leave()
	waitFor(t, "the execution's context ends with the last member", func() bool { return src.active.Load() == 0 })
	assert.Equal(t, 0.0, gaugeOf(t, gauge))
	assert.Equal(t, Stats{}, h.Stats())

	c := join(t, h, exec, "org:a", "", ticks, vars)
	waitFor(t, "a new execution for a new subscriber", func() bool { return src.executions.Load() == 2 })
	c.m.Leave()
	waitFor(t, "stopped", func() bool { return src.active.Load() == 0 })
}

func TestSlowMemberIsDroppedWithoutSlowingOthers(t *testing.T) {
	noLeaks(t)
	src := &source{}
	exec := newExecutor(t, src)
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "active"})
	h := testHub(t, 2, gauge)
	vars := map[string]any{"topic": "t"}
	slow := join(t, h, exec, "org:a", "", ticks, vars) // never takes until the end
	fast := join(t, h, exec, "org:a", "", ticks, vars)
	waitFor(t, "execution", func() bool { return src.executions.Load() == 1 })

	for i := range 5 {
		src.publish("t", fmt.Sprint("e", i))
		p, ended, _ := fast.next(t)
		assert.False(t, ended)
		assert.Contains(t, p, fmt.Sprint("e", i))
	}
	events, ended, end := slow.m.Take(nil)
	assert.Len(t, events, 2, "what fit in its buffer")
	require.True(t, ended, "dropped")
	require.NotNil(t, end.Err)
	assert.Equal(t, CodeSubscriberTooSlow, end.Err.Extensions["code"])
	assert.Equal(t, "subscriber too slow: 1 events dropped (its buffer of 2 events was full)", end.Err.Message)
	assert.Equal(t, "ticks", end.Err.Path.String())
	assert.Equal(t, 1.0, gaugeOf(t, gauge), "the dropped member is no longer counted")
	slow.m.Leave()
	assert.Equal(t, 1.0, gaugeOf(t, gauge), "leaving after being dropped counts once")
	fast.m.Leave()
}

func TestTheEndOfAGroupReachesEveryMember(t *testing.T) {
	noLeaks(t)
	src := &source{}
	exec := newExecutor(t, src)
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "active"})
	h := testHub(t, 0, gauge)

	t.Run("the stream completes", func(t *testing.T) {
		vars := map[string]any{"topic": "ends"}
		a, b := join(t, h, exec, "org:a", "", ticks, vars), join(t, h, exec, "org:a", "", ticks, vars)
		waitFor(t, "execution", func() bool { return src.active.Load() == 1 })
		src.end("ends")
		for _, s := range []*sub{a, b} {
			_, ended, end := s.next(t)
			assert.True(t, ended)
			assert.Nil(t, end.Err)
		}
		waitFor(t, "gauge", func() bool { return gaugeOf(t, gauge) == 0 })
	})
	t.Run("the resolver refuses: every member gets the error", func(t *testing.T) {
		vars := map[string]any{"topic": "fails"}
		a, b := join(t, h, exec, "org:a", "", ticks, vars), join(t, h, exec, "org:a", "", ticks, vars)
		for _, s := range []*sub{a, b} {
			p, _, _ := s.next(t)
			assert.JSONEq(t, `{"errors":[{"message":"the resolver refused","extensions":{"code":"TEST_CODE"}}],"data":null}`, p)
			_, ended, _ := s.next(t)
			assert.True(t, ended)
		}
	})
	t.Run("a subscriber without a workspace gets the presented error", func(t *testing.T) {
		s := join(t, h, exec, "", "", ticks, map[string]any{"topic": "t"})
		_, ended, end := s.next(t)
		require.True(t, ended)
		require.NotNil(t, end.Err)
		assert.Equal(t, "no workspace", end.Err.Message)
		assert.Equal(t, "TEST_CODE", end.Err.Extensions["code"])
		s.m.Leave()
	})
	assert.Equal(t, 0.0, gaugeOf(t, gauge))
}

func TestCloseEndsEveryGroup(t *testing.T) {
	noLeaks(t)
	src := &source{}
	exec := newExecutor(t, src)
	h := testHub(t, 0, nil)
	a := join(t, h, exec, "org:a", "", ticks, map[string]any{"topic": "t"})
	b := join(t, h, exec, "org:b", "", ticks, map[string]any{"topic": "t"})
	waitFor(t, "executions", func() bool { return src.active.Load() == 2 })
	h.Close()
	for _, s := range []*sub{a, b} {
		_, ended, _ := s.next(t)
		assert.True(t, ended)
	}
	waitFor(t, "every execution's context ended", func() bool { return src.active.Load() == 0 })
	late := join(t, h, exec, "org:a", "", ticks, map[string]any{"topic": "t"})
	_, ended, end := late.next(t)
	require.True(t, ended)
	assert.Equal(t, CodeUnavailable, end.Err.Extensions["code"])
}

// BenchmarkBroadcast is the hub's own share of a fan-out: one event queued for N members
// (the transports' writes excluded).
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint("members=", n), func(b *testing.B) {
			src := &source{}
			exec := newExecutor(b, src)
			h := testHub(b, 0, nil)
			vars := map[string]any{"topic": "t"}
			members := make([]*sub, n)
			for i := range members {
				members[i] = join(b, h, exec, "org:a", "", ticks, vars)
			}
			waitFor(b, "execution", func() bool { return src.executions.Load() == 1 })
			buf := make([][][]byte, n)
			b.ResetTimer()
			for b.Loop() {
				src.publish("t", "e")
				for i, s := range members {
					for {
						events, _, _ := s.m.Take(buf[i])
						if len(events) > 0 {
							buf[i] = events
							break
						}
						<-s.ready
					}
				}
			}
			b.StopTimer()
			for _, s := range members {
				s.m.Leave()
			}
		})
	}
}
