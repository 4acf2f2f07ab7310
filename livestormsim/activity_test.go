package livestormsim

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestActivity(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Size = SizeTiny })
	rcv := newWebhookReceiver(t, nil)
	for _, org := range []Organization{h.org, h.org2} {
		h.subscribe(org.Token, rcv.srv.URL, "people.registered", "session.created", "session.started", "session.ended", "event.created")
	}
	h.sim.StartActivity(Activity{RegistrationEvery: 5 * time.Millisecond, SessionCycle: 80 * time.Millisecond})
	h.sim.StartActivity(Activity{}) // second call: no effect

	eventually(t, func() bool { return rcv.count("session.ended") >= 4 }, "demo sessions ended in both organizations")
	eventually(t, func() bool { return rcv.count("people.registered") >= 5 }, "activity registrations")
	assert.Equal(t, 2, rcv.count("event.created"), "one demo event per organization")
	assert.GreaterOrEqual(t, rcv.count("session.created"), 4)
	assert.GreaterOrEqual(t, rcv.count("session.started"), 4)

	demo := h.listAll("/events?filter[title]=live%20product%20demo", h.org.Token)
	require.Len(t, demo, 1)
	sessions := h.listAll("/events/"+demo[0]["id"].(string)+"/sessions?filter[status]=past", h.org.Token)
	assert.NotEmpty(t, sessions)
}

// TestConcurrentUse exercises the store from many goroutines while the clock
// ticks (run with -race).
func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, nil)
	upcoming := h.sessionWithStatus(statusUpcoming, nil)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 10; i++ {
				email := fmt.Sprintf("c%d-%d@example.com", g, i)
				r := h.do("POST", "/sessions/"+upcoming.id+"/people", h.org.Token, registrationBody(email))
				assert.Equal(t, http.StatusCreated, r.status)
				h.get("/sessions/" + upcoming.id + "/people?page[size]=5")
				h.get("/events?include=sessions,tags")
			}
		})
	}
	wg.Go(func() {
		for i := 0; i < 20; i++ {
			assert.NoError(t, h.sim.Advance(time.Minute))
		}
	})
	wg.Wait()
	n := len(h.listAll("/sessions/"+upcoming.id+"/people?filter[role]=participant", h.org.Token))
	h.sim.store.mu.RLock()
	stored := len(upcoming.regs) - 1 // minus the host row
	h.sim.store.mu.RUnlock()
	assert.Equal(t, stored, n)
	assert.GreaterOrEqual(t, n, 80)
}

// TestActivityRegistersAtOnceWhereSomeoneListens: the first registration comes when the
// activity starts (not a period later), in a workspace with a people.registered webhook,
// so a demo watching one workspace sees it at once.
func TestActivityRegistersAtOnceWhereSomeoneListens(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Size = SizeTiny })
	rcv := newWebhookReceiver(t, nil)
	h.subscribe(h.org2.Token, rcv.srv.URL, "people.registered") // only the second workspace listens
	h.sim.StartActivity(Activity{RegistrationEvery: time.Hour, SessionCycle: -1})
	eventually(t, func() bool { return rcv.count("people.registered") == 1 }, "a registration at once, where it is heard")
}
