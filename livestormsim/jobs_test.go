package livestormsim

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBulkRegistration(t *testing.T) {
	h := newHarness(t, nil)
	rcv := newWebhookReceiver(t, nil)
	h.subscribe(h.org.Token, rcv.srv.URL, "job.created", "job.ended", "people.registered")
	upcoming := h.sessionWithStatus(statusUpcoming, nil)
	taken := h.participantOf(upcoming)
	field := func(id string, v any) map[string]any { return map[string]any{"id": id, "value": v} }

	waitJob := func(t *testing.T, id string) map[string]any {
		var job map[string]any
		eventually(t, func() bool {
			job = attrs(h.get("/jobs/"+id).must(t, http.StatusOK).data())
			return job["status"] != "processing"
		}, "job finished")
		return job
	}

	t.Run("documented tool shape with one failing task", func(t *testing.T) {
		body := map[string]any{"data": map[string]any{"type": "jobs", "attributes": map[string]any{"tasks": []any{
			map[string]any{"fields": []any{field("email", "bulk.a@example.com"), field("first_name", "Bulk")}, "utm_source": "csv"},
			map[string]any{"fields": []any{field("email", taken.email)}},
			map[string]any{"fields": []any{field("email", "bulk.b@example.com")}, "referrer": "import"},
		}}}}
		r := h.do("POST", "/sessions/"+upcoming.id+"/people/bulk", h.org.Token, body).must(t, http.StatusAccepted)
		assert.Equal(t, "jobs", r.doc["type"])
		jobID := r.doc["id"].(string)
		assert.Equal(t, map[string]any{"status": "processing", "total_items": float64(3), "total_processed_items": float64(0), "total_fail": float64(0), "total_success": float64(0)}, r.doc["attributes"])

		job := waitJob(t, jobID)
		assert.Equal(t, map[string]any{"status": "failed", "total_items": float64(3), "total_processed_items": float64(3), "total_fail": float64(1), "total_success": float64(2)}, job)

		tasks := h.get("/jobs/"+jobID+"/tasks").must(t, http.StatusOK).list()
		require.Len(t, tasks, 3)
		statuses := []any{attrs(tasks[0])["status"], attrs(tasks[1])["status"], attrs(tasks[2])["status"]}
		assert.Equal(t, []any{"succeeded", "failed", "succeeded"}, statuses)
		ok, failed := attrs(tasks[0]), attrs(tasks[1])
		assert.Equal(t, "bulk.a@example.com", ok["email"])
		assert.NotNil(t, ok["person_id"])
		assert.Empty(t, ok["errors"])
		assert.Equal(t, "csv", ok["input"].(map[string]any)["utm_source"], "input echoes the task")
		assert.Nil(t, failed["person_id"])
		errs := failed["errors"].([]any)
		require.Len(t, errs, 1)
		assert.Equal(t, "Person already registered to this session", errs[0].(map[string]any)["detail"])
		assert.Equal(t, "tasks", tasks[0]["type"])

		h.get("/sessions/"+upcoming.id+"/people/"+ok["person_id"].(string)).must(t, http.StatusOK)
		eventually(t, func() bool { return rcv.count("job.ended") == 1 }, "job.ended delivered")
		assert.Equal(t, 1, rcv.count("job.created"))
		assert.Equal(t, 2, rcv.count("people.registered"))
		for _, d := range rcv.received() {
			if d.event == "job.ended" {
				data := d.payload["data"].(map[string]any)
				assert.Equal(t, jobID, data["id"])
				assert.Equal(t, job, data["attributes"], "same payload as GET /jobs/{id}")
			}
		}
	})

	t.Run("documented prose shape, all succeed", func(t *testing.T) {
		body := map[string]any{"type": "jobs", "data": map[string]any{"attributes": map[string]any{"tasks": []any{
			map[string]any{"attributes": map[string]any{"fields": []any{field("email", "prose.a@example.com")}}},
			map[string]any{"attributes": map[string]any{"fields": []any{field("email", "prose.b@example.com")}}},
		}}}}
		r := h.do("POST", "/sessions/"+upcoming.id+"/people/bulk", h.org.Token, body).must(t, http.StatusAccepted)
		job := waitJob(t, r.doc["id"].(string))
		assert.Equal(t, "ended", job["status"])
		assert.Equal(t, float64(2), job["total_success"])
	})

	t.Run("jobs belong to their organization", func(t *testing.T) {
		body := map[string]any{"data": map[string]any{"type": "jobs", "attributes": map[string]any{"tasks": []any{map[string]any{"fields": []any{field("email", "iso@example.com")}}}}}}
		r := h.do("POST", "/sessions/"+upcoming.id+"/people/bulk", h.org.Token, body).must(t, http.StatusAccepted)
		h.do("GET", "/jobs/"+r.doc["id"].(string), h.org2.Token, nil).must(t, http.StatusNotFound)
		h.do("POST", "/sessions/"+upcoming.id+"/people/bulk", h.org2.Token, body).must(t, http.StatusNotFound)
	})

	t.Run("tasks answer 500 to pagination", func(t *testing.T) {
		body := map[string]any{"data": map[string]any{"type": "jobs", "attributes": map[string]any{"tasks": []any{map[string]any{"fields": []any{field("email", "page@example.com")}}}}}}
		id := h.do("POST", "/sessions/"+upcoming.id+"/people/bulk", h.org.Token, body).must(t, http.StatusAccepted).doc["id"].(string)
		waitJob(t, id)
		h.get("/jobs/"+id+"/tasks?page[number]=0").must(t, http.StatusInternalServerError)
		h.get("/jobs/"+id+"/tasks").must(t, http.StatusOK)
	})
}
