package livestorm

import (
	"context"
	"fmt"
	"net/http"
)

// MaxBulkTasks is the most registrations one bulk job accepts.
const MaxBulkTasks = 50

// BulkRegister starts an asynchronous bulk registration of up to 50 people
// (POST /sessions/{id}/people/bulk, 202). Poll GetJob or subscribe to
// job.ended, then read ListJobTasks. More than 50 (or none) fails with
// KindInvalid before any request.
func (c *Client) BulkRegister(ctx context.Context, sessionID string, rs []Registration) (*Job, error) {
	const route = "/sessions/{id}/people/bulk"
	if len(rs) == 0 || len(rs) > MaxBulkTasks {
		return nil, invalid(http.MethodPost, route, fmt.Errorf("bulk registration takes 1 to %d people, got %d", MaxBulkTasks, len(rs)))
	}
	b, err := bulkBody(rs)
	if err != nil {
		return nil, invalid(http.MethodPost, route, err)
	}
	// The 202 answer is a root-level resource per the docs, or a data
	// document per Livestorm's own tool; parseDocument reads both.
	return fetchOne(ctx, c, http.MethodPost, route, pathParams{"id": sessionID}, nil, b, (*decoder).job)
}

// bulkBody renders {"data":{"type":"jobs","attributes":{"tasks":[{"fields":[…],"referrer":…}]}}},
// the shape Livestorm's own bulk tool sends.
func bulkBody(rs []Registration) (body, error) {
	tasks := make([]map[string]any, 0, len(rs))
	for i, r := range rs {
		a, err := r.attributes()
		if err != nil {
			return body{}, fmt.Errorf("tasks[%d]: %w", i, err)
		}
		tasks = append(tasks, a)
	}
	return body{Data: resourceObject{Type: "jobs", Attributes: map[string]any{"tasks": tasks}}}, nil
}

// GetJob reads a bulk job's progress (GET /jobs/{id}).
func (c *Client) GetJob(ctx context.Context, id string) (*Job, error) {
	return fetchOne(ctx, c, http.MethodGet, "/jobs/{id}", pathParams{"id": id}, nil, nil, (*decoder).job)
}

// ListJobTasks returns the per-person outcome of a job (GET /jobs/{id}/tasks).
// It never sends page parameters: Livestorm answers 500 when it gets any.
func (c *Client) ListJobTasks(ctx context.Context, jobID string) ([]JobTask, error) {
	l, err := fetchList(ctx, c, "/jobs/{id}/tasks", pathParams{"id": jobID}, nil, (*decoder).jobTask)
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}
