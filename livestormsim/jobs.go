package livestormsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// maxBulkTasks is Livestorm's per-call limit for bulk registration.
const maxBulkTasks = 50

// taskInput is one bulk task: the registration it asks for and the raw JSON
// echoed back as the task's "input".
type taskInput struct {
	raw json.RawMessage
	reg registrationIn
}

// bulkBody accepts both documented bulk shapes (wire decision 6):
// {"data":{"type":"jobs","attributes":{"tasks":[{…}]}}} and
// {"type":"jobs","data":{"attributes":{"tasks":[{"attributes":{…}}]}}}.
type bulkBody struct {
	Type string `json:"type"`
	Data *struct {
		Type       string `json:"type"`
		Attributes struct {
			Tasks []json.RawMessage `json:"tasks"`
		} `json:"attributes"`
	} `json:"data"`
}

func parseBulkBody(r *http.Request) ([]taskInput, *apiError) {
	var body bulkBody
	if e := readBody(r, &body); e != nil {
		return nil, e
	}
	if body.Data == nil {
		return nil, errorf(http.StatusBadRequest, "The request body must have a 'data' object")
	}
	if e := checkType(body.Data.Type, "jobs"); e != nil {
		return nil, e
	}
	if e := checkType(body.Type, "jobs"); e != nil {
		return nil, e
	}
	tasks := body.Data.Attributes.Tasks
	if len(tasks) == 0 || len(tasks) > maxBulkTasks {
		return nil, unprocessable("tasks must contain between 1 and %d items, got %d", maxBulkTasks, len(tasks))
	}
	out := make([]taskInput, 0, len(tasks))
	for i, raw := range tasks {
		var probe struct {
			Attributes json.RawMessage `json:"attributes"`
			Fields     json.RawMessage `json:"fields"`
		}
		if json.Unmarshal(raw, &probe) != nil {
			return nil, errorf(http.StatusBadRequest, "tasks[%d] must be an object", i)
		}
		if len(probe.Attributes) > 0 && len(probe.Fields) == 0 {
			raw = probe.Attributes
		}
		var reg registrationIn
		if err := json.Unmarshal(raw, &reg); err != nil {
			return nil, errorf(http.StatusBadRequest, "tasks[%d] is not a valid registration: %v", i, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return nil, errorf(http.StatusBadRequest, "tasks[%d] is not valid JSON", i)
		}
		out = append(out, taskInput{raw: compact.Bytes(), reg: reg})
	}
	return out, nil
}

// bulkRegister serves POST /sessions/{id}/people/bulk: it answers 202 with a
// root-level job document (wire decision 7) and processes one task per
// JobTaskInterval in the background.
func (s *Simulator) bulkRegister(c *reqCtx) response {
	inputs, e := parseBulkBody(c.r)
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	sess, e := c.pathSession()
	if e != nil {
		return apiErrorResponse(e)
	}
	now := c.now()
	j := &job{id: s.ids.uuid(), org: c.org, sessionID: sess.id, status: "processing", createdAt: now, updatedAt: now}
	for _, in := range inputs {
		j.tasks = append(j.tasks, &task{id: s.ids.uuid(), input: in, email: in.reg.email(), createdAt: now, updatedAt: now})
	}
	c.org.jobs[j.id] = j
	res := jobResource(j)
	s.hooks.emit(c.org, "job.created", res)
	s.goTracked(func() { s.runJob(j) })
	return jsonResponse(http.StatusAccepted, res)
}

// runJob processes a job's tasks one per JobTaskInterval (wall time), then
// sets its final status and fires job.ended. It stops early on Close.
func (s *Simulator) runJob(j *job) {
	t := time.NewTimer(s.cfg.JobTaskInterval)
	defer t.Stop()
	for i := range j.tasks {
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
		s.processTask(j, j.tasks[i], i == len(j.tasks)-1)
		t.Reset(s.cfg.JobTaskInterval)
	}
}

func (s *Simulator) processTask(j *job, tk *task, last bool) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	now := s.Now().Unix()
	tk.done, tk.updatedAt = true, now
	j.processed++
	sess := j.org.sessionByID[j.sessionID]
	var r *registration
	var e *apiError
	if sess == nil {
		e = errorf(http.StatusNotFound, "Session not found")
	} else {
		r, e = s.registerLocked(sess, tk.input.reg, regTypeAPI, nil, now)
	}
	if e != nil {
		_, title := reason(e.status)
		tk.status, tk.errors = "failed", []taskError{{Title: title, Detail: e.detail}}
		j.failed++
	} else {
		tk.status, tk.personID, tk.email = "succeeded", r.person.id, r.person.email
		j.succeeded++
		s.hooks.emit(j.org, "people.registered", registrantResource(r))
	}
	j.updatedAt = now
	if last {
		j.status = "ended"
		if j.failed > 0 {
			j.status = "failed"
		}
		s.hooks.emit(j.org, "job.ended", jobResource(j))
	}
}

func (s *Simulator) getJob(c *reqCtx) response {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	j, e := c.pathJob()
	if e != nil {
		return apiErrorResponse(e)
	}
	return jsonResponse(http.StatusOK, document{Data: jobResource(j)})
}

// listJobTasks serves GET /jobs/{id}/tasks: the processed tasks in order. Any
// page[...] parameter yields a 500, as observed on the real API (§4).
func (s *Simulator) listJobTasks(c *reqCtx) response {
	for key := range c.r.URL.Query() {
		if strings.HasPrefix(key, "page[") {
			return errorResponse(http.StatusInternalServerError, "Internal server error")
		}
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	j, e := c.pathJob()
	if e != nil {
		return apiErrorResponse(e)
	}
	data := make([]resource, 0, len(j.tasks))
	for _, tk := range j.tasks {
		if tk.done {
			data = append(data, taskResource(tk))
		}
	}
	meta := &pageMeta{RecordCount: len(data), PageCount: min(len(data), 1), ItemsPerPage: maxBulkTasks}
	return jsonResponse(http.StatusOK, document{Data: data, Meta: meta})
}
